// Factories of the elementwise family (arithmetic, activations, softmax...).
#pragma once
#include "topiary/kernel.h"

namespace topiary::ops {
Result<std::unique_ptr<Kernel>> createRelu(const Node& node, int opset);
}  // namespace topiary::ops
