// Squeeze-and-excite as one inference kernel: the optimiser
// (optimize/squeeze_excite_fusion.cpp) replaces
//   GlobalAveragePool(x) -> 1x1 Conv [+act1] -> 1x1 Conv [+act2] -> Mul(x, .)
// by the Mul node alone, with inputs [x, W1, B1, W2, B2] (biases may be
// empty), topiary.squeeze_excite = 1 and the two activations as
// topiary.se_act1* / topiary.se_act2* (kernels::Activation::fromNode).
// Per image: channel means of x, the two tiny matrix-vector products, then
// y = x * gate per plane while the image is still in cache. The unfused
// chain costs four operator calls per chunk, two of them Convs that run a
// 1x1 "image" through im2col + GEMM, and a broadcasting Mul.
#pragma once

#include <memory>

#include "topiary/graph.h"
#include "topiary/kernel.h"
#include "topiary/status.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSqueezeExcite(const Node& node, int opset);

}  // namespace topiary::ops
