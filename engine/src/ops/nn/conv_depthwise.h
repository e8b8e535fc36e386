// Depthwise convolution (one input channel per group, `mult` = Cout / group
// outputs per channel) on any window rank, by plain loops over the taps:
// the forward path for 1-D and 3-D depthwise Conv and the backward of every
// depthwise Conv. 2-D inference runs on kernels/depthwise_conv.h or the
// direct kernel instead (ops/nn/conv_depthwise2d.cpp).
#pragma once

#include <cstdint>

#include "kernels/activation.h"
#include "ops/nn/window.h"

namespace topiary::ops {

struct DepthwiseShape {
  const Window& win;
  int64_t N, Cin, Cout, group;
};

// y = act(conv(x, w) + b); b may be null.
void depthwiseForwardNd(const DepthwiseShape& s, const float* x, const float* w, const float* b, float* y,
                        const kernels::Activation& act, int threads);
// gx (added to; may be null) and gw (overwritten; may be null) from gy.
void depthwiseBackwardNd(const DepthwiseShape& s, const float* x, const float* w, const float* gy, float* gx,
                         float* gw, int threads);

}  // namespace topiary::ops
