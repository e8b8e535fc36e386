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
  // One input channel shared by all C outputs (a Conv with a single input
  // channel, such as a network's stem): x is [H, W], the same in either
  // layout, and is spread over the 16 lanes once per image, not per block.
  bool broadcast = false;
  // Derived by init(): the padded interleaved plane every read stays inside.
  int64_t Hp = 0, Wp = 0;
  std::vector<float> packed;  // weights as [C/16 blocks][tap][16], then bias as [C/16 blocks][16]

  void init();
  // Weights [C, 1, kH, kW] and bias [C] (may be null), once per weight change.
  void pack(const float* w, const float* b);
  int64_t scratchFloats() const { return 16 * (Hp * Wp + Ho * Wo) + 16; }
  // One image: x [C, H, W] -> y [C, Ho, Wo] = act(conv + b) (act may be
  // null). `scratch` holds scratchFloats() floats. xNhwc / yNhwc: x or y is
  // stored channels-last ([H, W, C], [Ho, Wo, C]; C a multiple of 16), as
  // inside a channels-last region (optimize/channels_last.h): the blocks are
  // then plain 16-float copies instead of transposes.
  void run(const float* x, float* y, float* scratch, const Activation* act, bool xNhwc = false,
           bool yNhwc = false) const;

 private:
  // Channels [c0, c0 + nc) of x [C, H, W] into the padded block xp; the
  // block's result yt [Ho * Wo][16] back into y [C, Ho, Wo], activated.
  void interleave(const float* x, int64_t c0, int64_t nc, float* xp) const;
  void deinterleave(const float* yt, int64_t c0, int64_t nc, float* y, const Activation& act) const;
};

}  // namespace topiary::kernels
