// Factories of the tensor-manipulation family (shapes, copies, indexing).
#pragma once
#include "topiary/kernel.h"

namespace topiary::ops {
Result<std::unique_ptr<Kernel>> createFlatten(const Node& node, int opset);
}  // namespace topiary::ops
