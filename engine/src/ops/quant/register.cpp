#include "ops/quant/quant_ops.h"
#include "ops/registry_parts.h"

namespace topiary {

void registerQuantOps(OpRegistry& r) {
  using namespace ops;
  r.add({"QuantizeLinear", 10, INT_MAX, createQuantizeLinear});
  r.add({"DequantizeLinear", 10, INT_MAX, createDequantizeLinear});
}

}  // namespace topiary
