// 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// each 2x2 output tile costs 16 multiply-adds per (input, output) channel
// pair instead of 36, plus input and output transforms that are only
// additions. The padded input is split into its four stride-2 phase planes
// (DirectConvPlan with a 4x4 window and stride 2), so the 16 values of every
// input tile are contiguous vector loads over a flattened row of tiles and
// both transforms run 16 tiles per vector. Several images share one pass
// when the planes are small, so the products stay long.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/direct_conv.h"

namespace topiary::kernels {

struct Activation;

struct WinogradPlan {
  int64_t cin = 0, cout = 0, H = 0, W = 0, padT = 0, padL = 0, Ho = 0, Wo = 0;
  // The window, fixed by applies(); here so that Conv sets up every plan alike.
  int64_t kH = 3, kW = 3, dH = 1, dW = 1, sH = 1, sW = 1;
  // Derived by init():
  DirectConvPlan tiles;          // 4x4 windows at stride 2 over the padded input
  int64_t perImage = 0;          // flattened tiles per image (one phase plane, Hs x Ws)
  int64_t group = 1;             // images per pass
  std::vector<float> packed;     // transformed weights [cout/8][16][cin][8]

  static bool applies(int64_t kH, int64_t kW, int64_t sH, int64_t sW, int64_t dH, int64_t dW) {
    return kH == 3 && kW == 3 && sH == 1 && sW == 1 && dH == 1 && dW == 1;
  }
  void init();
  // Weights [cout, cin, 3, 3], once per weight change.
  void pack(const float* w);
  int64_t scratchFloats() const;
  // `n` images x [n, cin, H, W] -> y [n, cout, Ho, Wo] = act(conv + b + r)
  // (b, act and the residual r [n, cout, Ho, Wo] may be null; r may not
  // alias y). `scratch` holds scratchFloats() floats.
  void run(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act,
           const float* r = nullptr) const;

 private:
  // One phase plane of a pass: `group` images, then 16 spare floats that
  // take the cleared lanes padInput writes past the last image.
  int64_t phaseFloats() const { return group * perImage + 16; }
  int64_t inputFloats() const;
  // One row buffer of the transformed outputs (see pass()), with room for
  // the whole vectors written past the last tile.
  int64_t outRowFloats() const { return 2 * group * perImage + 32; }
  void pass(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act,
            const float* r) const;
  // Rows of the output buffers into y (and residual, activation) per plane.
  void compact(const float* out, int64_t n, float* y, const Activation& act, bool actDone, const float* r) const;
};

}  // namespace topiary::kernels
