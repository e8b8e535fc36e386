// Direct stride-1 2-D convolution on "wide" rows, with no im2col matrix.
// The input plane is copied once with its padding into a Hp x Wp buffer.
// Flattened, output (oh, ow) then reads input oh*Wp + ow + shift(tap),
// so every tap is one contiguous multiply-add over the whole flattened
// plane: outputs are computed on rows Wp wide and the Wp - Wo extra columns
// are dropped when the result is copied out. Output channels are blocked
// (up to 8) and 32 outputs kept in registers across all input channels and
// taps, so each loaded input vector feeds up to 16 multiply-adds.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct DirectConvPlan {
  int64_t cin = 0, cout = 0, H = 0, W = 0, kH = 0, kW = 0, dH = 1, dW = 1, padT = 0, padL = 0, Ho = 0, Wo = 0;
  // Derived by init():
  int64_t Hp = 0, Wp = 0;       // padded plane
  int64_t wide = 0;             // flattened wide output per channel, rounded up to 32
  int64_t plane = 0;            // floats per padded input channel (with read slack)
  std::vector<int64_t> shifts;  // per tap
  std::vector<float> packed;    // weights as [cout/8 blocks][cin][tap][8]

  void init();
  // Repacks weights [cout, cin, kH, kW] for the kernel (once per weight change).
  void pack(const float* w);
  int64_t scratchFloats() const { return cin * plane + cout * wide; }
  // One image: x [cin, H, W] -> y [cout, Ho, Wo] = act(conv + b) (b, act
  // may be null). `scratch` holds scratchFloats() floats.
  void run(const float* x, float* y, float* scratch, const float* b = nullptr, const Activation* act = nullptr) const;
};

}  // namespace topiary::kernels
