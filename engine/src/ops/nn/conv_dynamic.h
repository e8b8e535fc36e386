// Run-time (input-dependent) channel skipping for Conv. The inference
// optimiser marks eligible Convs with the internal attribute
//   topiary.dynamic_skip = T (float, >= 0)
// (ExecutorOptions::dynamicSkipThreshold). For every image such a Conv finds
// the input channels whose largest magnitude is <= T, drops them from the
// input and from the weights ([Cout, active, kh, kw]) and runs the smaller
// convolution on the engine's dense kernels (im2col + Eigen GEMM; the direct
// kernel per channel for depthwise). T = 0 skips exact zeros only, so the
// result is the dense one up to float rounding; T > 0 equals the dense Conv
// on an input whose skipped channels were zeroed first.
#pragma once

#include <vector>

namespace topiary::ops {

// Implemented by kernels that skip work per image, so the executor can
// report the compute saved per input.
class SkipCounter {
 public:
  virtual ~SkipCounter() = default;
  // Per image of the last forward: FLOPs (multiply-add = 2) not executed
  // because of skipped input channels.
  virtual const std::vector<double>& skippedFlops() const = 0;
  // Per image of the last forward: FLOPs over all its silent input channels,
  // skipped or not (an image may run the ordinary kernel when that is faster).
  virtual const std::vector<double>& silentFlops() const = 0;
};

}  // namespace topiary::ops
