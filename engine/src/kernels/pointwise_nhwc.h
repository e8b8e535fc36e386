// 1x1 convolution (stride 1, no padding, group 1) producing channels-last
// output, for the channels-last regions of the inference optimiser
// (optimize/channels_last.h). Every output pixel is a row of Cout values, so
// a tile of R pixels times up to 64 output channels stays in registers: per
// input channel it loads the weight vectors once and broadcasts one input
// value per pixel (either layout: a broadcast reads a single float). Bias and
// activation are applied as the tile is stored. NCHW output (a region's
// exit) goes through a per-image scratch and 16x16 transposes.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct PointwisePlan {
  int64_t cin = 0, cout = 0, P = 0;  // cout a multiple of 16
  // Weights as [chunk of up to 64 outputs][cin][chunk width], then bias [cout].
  std::vector<float> packed;

  static bool applies(int64_t cout) { return cout > 0 && cout % 16 == 0; }
  // Weights [cout, cin] and bias [cout] (may be null), once per weight change.
  void pack(const float* w, const float* b);
  int64_t scratchFloats(bool yNhwc) const { return yNhwc ? 0 : P * cout; }
  // One image: x [cin, P] (or [P, cin] when xNhwc) -> y [P, cout] (or
  // [cout, P] when !yNhwc) = act(W x + b). act may be null.
  void run(const float* x, bool xNhwc, float* y, bool yNhwc, float* scratch, const Activation* act) const;
};

}  // namespace topiary::kernels
