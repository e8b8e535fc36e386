// Direct 2-D convolution with vectors over output channels, for small
// planes and short channel counts. DirectConvPlan puts output pixels in the vector lanes and so
// computes whole "wide" rows of the padded plane: on a 7x7 output that is
// 64 lanes for 49 pixels (and 48+16 blocks). Here each vector holds 16
// output channels of one pixel; up to 28 accumulators (a run of R pixels of
// one output row x V vectors) stay in registers over every input channel
// and tap, each input value is broadcast once per V multiply-adds, and no
// lane is wasted on padding columns. The R x 16V block is transposed into
// NCHW when stored (its cost is small next to cin * taps multiply-adds per
// output). Strides 1 and 2; any dilation and padding.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct CoVectorConvPlan {
  int64_t cin = 0, cout = 0, H = 0, W = 0, kH = 0, kW = 0, dH = 1, dW = 1, sH = 1, sW = 1, padT = 0, padL = 0;
  int64_t Ho = 0, Wo = 0;
  // Derived by init():
  int64_t Hp = 0, Wp = 0;     // padded input plane
  bool inPlaceInput = false;  // no padding: the input is read where it is
  std::vector<float> packed;  // weights per block of up to 64 output channels: [ci][tap][16V]

  static bool applies(int64_t sH, int64_t sW) { return sH == sW && (sH == 1 || sH == 2); }
  void init();
  // Weights [cout, cin, kH, kW], once per weight change.
  void pack(const float* w);
  int64_t scratchFloats() const { return cin * Hp * Wp + 16 + 64 * 16; }
  // One image: x [cin, H, W] -> y [cout, Ho, Wo] = act(conv + b + r) (b,
  // act and the residual r [cout, Ho, Wo] may be null; r may not alias y).
  // Only output rows [oh0, oh1) (oh1 < 0: all) are written, so threads can
  // share one image, each with its own scratch.
  void run(const float* x, float* y, float* scratch, const float* b, const Activation* act, const float* r = nullptr,
           int64_t oh0 = 0, int64_t oh1 = -1) const;
};

}  // namespace topiary::kernels
