#include "ops/registry_parts.h"
#include "ops/tensor/tensor_ops.h"

namespace topiary {

void registerTensorOps(OpRegistry& r) {
  using namespace ops;
  r.add({"Flatten", 1, INT_MAX, createFlatten});
}

}  // namespace topiary
