// Conv's backward on im2col + GEMM for every Conv that is not depthwise
// (ops/nn/conv.cpp; depthwise ones use ops/nn/conv_depthwise.h).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/nn/window.h"

namespace topiary::ops {

struct ConvShape {
  const Window& win;
  int64_t N, Cin, Cout, group;
};

// A 1x1, stride-1, unpadded window: the input is its own im2col matrix.
bool isPointwise(const Window& win);

// gx (added to; may be null) and gw (overwritten; may be null) from gy, with
// images split over `workers` and one inner thread count of `threads` when
// there is a single worker. `col` and `part` are the caller's scratch (the
// im2col matrix per worker and the per-worker dW partial sums).
void convBackwardIm2col(const ConvShape& s, const float* x, const float* w, const float* gy, float* gx, float* gw,
                        int threads, int workers, std::vector<float>& col, std::vector<float>& part);

}  // namespace topiary::ops
