// Factories of the quantization family (QuantizeLinear, DequantizeLinear),
// which run the QDQ models Topiary exports for quantized weights.
#pragma once
#include "topiary/kernel.h"

namespace topiary::ops {
Result<std::unique_ptr<Kernel>> createQuantizeLinear(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createDequantizeLinear(const Node& node, int opset);
}  // namespace topiary::ops
