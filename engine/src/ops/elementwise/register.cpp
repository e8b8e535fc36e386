#include "ops/elementwise/elementwise_ops.h"
#include "ops/registry_parts.h"

namespace topiary {

void registerElementwiseOps(OpRegistry& r) {
  using namespace ops;
  r.add({"Relu", 1, INT_MAX, createRelu});
}

}  // namespace topiary
