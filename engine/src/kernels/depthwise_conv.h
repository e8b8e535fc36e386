// Depthwise 2-D convolution (one input and one output channel per group)
// vectorised across channels. In NCHW a depthwise layer has only kH*kW
// multiply-adds per output and small planes (7x7, 14x14), so a per-plane
// kernel spends most of its time on padding, row edges and call overhead.
// Here 16 channels are interleaved into one padded [Hp][Wp][16] block, so
// every tap of every output is one aligned 16-wide multiply-add with the
// tap's weights held in registers, then the result is de-interleaved back
// into the 16 output planes.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct DepthwisePlan {
  int64_t C = 0, H = 0, W = 0, kH = 0, kW = 0, dH = 1, dW = 1, sH = 1, sW = 1, padT = 0, padL = 0;
  int64_t Ho = 0, Wo = 0;
  // Derived by init(): the padded interleaved plane every read stays inside.
  int64_t Hp = 0, Wp = 0;
  std::vector<float> packed;  // weights as [C/16 blocks][tap][16], then bias as [C/16 blocks][16]

  void init();
  // Weights [C, 1, kH, kW] and bias [C] (may be null), once per weight change.
  void pack(const float* w, const float* b);
  int64_t scratchFloats() const { return 16 * (Hp * Wp + Ho * Wo) + 16; }
  // One image: x [C, H, W] -> y [C, Ho, Wo] = act(conv + b) (act may be
  // null). `scratch` holds scratchFloats() floats.
  void run(const float* x, float* y, float* scratch, const Activation* act) const;
};

}  // namespace topiary::kernels
