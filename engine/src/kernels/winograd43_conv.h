// 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// each 4x4 output tile costs 36 multiply-adds per (input, output) channel
// pair, against 64 for four F(2x2, 3x3) tiles and 144 directly. The
// interpolation points are 0, +-1, +-2 and infinity (the paper's), whose
// transform coefficients (at most 5 and 1/24) keep fp32 results within
// about 1e-6 of the exact convolution at these channel counts.
//
// Same scheme as WinogradPlan (winograd_conv.h): the padded input is split
// into its 16 stride-4 phase planes, so the 36 values of every 6x6 input tile
// are contiguous vector loads over a flattened row of tiles, and both
// transforms run 16 tiles per vector. Each image's planes carry one tile row
// and column more than the output needs (the 6x6 windows reach 2 into the
// next tile), computed and dropped: 64 tiles for 49 on a 28x28 output, 25
// for 16 on 14x14. Conv times this plan against F(2x2, 3x3) per layer and
// keeps the faster.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct Winograd43Plan {
  int64_t cin = 0, cout = 0, H = 0, W = 0, padT = 0, padL = 0, Ho = 0, Wo = 0;
  // The window, fixed by applies(); here so that Conv sets up every plan alike.
  int64_t kH = 3, kW = 3, dH = 1, dW = 1, sH = 1, sW = 1;
  // Derived by init():
  int64_t Hs = 0, Ws = 0;     // one phase plane of one image: tile rows and columns, plus one each
  int64_t perImage = 0;       // flattened tiles per image (Hs x Ws)
  int64_t group = 1;          // images per pass
  std::vector<float> packed;  // transformed weights [cout/8][36][cin][8]

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
  // One phase plane of a pass: `group` images, then spare floats that take
  // the cleared lanes padImage() writes past the last image's rows.
  int64_t phaseFloats() const { return group * perImage + 32; }
  int64_t inputFloats() const;
  // One row buffer of the transformed outputs (see pass()), with room for
  // the whole vectors written past the last tile.
  int64_t outRowFloats() const { return 4 * (group * perImage + 16); }
  // One image into the 16 phase planes at `dst` (channels `chan` floats
  // apart, planes `phase` apart; dst zeroed).
  void padImage(const float* x, float* dst, int64_t chan, int64_t phase) const;
  void pass(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act,
            const float* r) const;
  // Rows of the output buffers into y (and residual, activation) per plane.
  void compact(const float* out, int64_t n, float* y, const Activation& act, bool actDone, const float* r) const;
};

}  // namespace topiary::kernels
