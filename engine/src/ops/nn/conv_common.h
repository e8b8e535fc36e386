// Shared by the Conv kernels (ops/nn/conv.cpp, conv_dynamic.cpp): input
// checks and the window, and the im2col + GEMM backward of every Conv that
// is not depthwise (depthwise ones use ops/nn/conv_depthwise.h).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/nn/window.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary::ops {

// X [N, Cin, spatial...], W [Cout, Cin/group, kernel...] and the optional bias.
struct ConvDims {
  int64_t N = 0, Cin = 0, Cout = 0, Cg = 0;
};

// Checks Conv's inputs (X, W, optional B: float, ranks, channel counts
// against `group`, kernel_shape against W, bias length) and resolves the
// window; BadInput naming what is wrong.
Status resolveConv(const std::vector<const Tensor*>& in, const WindowAttrs& attrs, int64_t group, ConvDims& dims,
                   Window& win);

struct ConvShape {
  const Window& win;
  int64_t N, Cin, Cout, group;
};

// A 1x1, stride-1, unpadded window: the input is its own im2col matrix.
bool isPointwise(const Window& win);

// A fresh 2-D kernel plan (direct, depthwise, Winograd, co-vector) with the
// window's geometry; the caller sets the channels and calls init().
template <class Plan>
Plan planForWindow(const Window& win) {
  Plan pl{};
  pl.H = win.in[1];
  pl.W = win.in[2];
  pl.kH = win.k[1];
  pl.kW = win.k[2];
  pl.dH = win.d[1];
  pl.dW = win.d[2];
  pl.sH = win.s[1];
  pl.sW = win.s[2];
  pl.padT = win.padBegin[1];
  pl.padL = win.padBegin[2];
  pl.Ho = win.out[1];
  pl.Wo = win.out[2];
  return pl;
}

// gx (added to; may be null) and gw (overwritten; may be null) from gy, with
// images split over `workers` and one inner thread count of `threads` when
// there is a single worker. `col` and `part` are the caller's scratch (the
// im2col matrix per worker and the per-worker dW partial sums).
void convBackwardIm2col(const ConvShape& s, const float* x, const float* w, const float* gy, float* gx, float* gw,
                        int threads, int workers, std::vector<float>& col, std::vector<float>& part);

}  // namespace topiary::ops
