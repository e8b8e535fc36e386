#include "ops/nn/nn_ops.h"
#include "ops/registry_parts.h"

namespace topiary {

void registerNnOps(OpRegistry& r) {
  using namespace ops;
  r.add({"Gemm", 1, INT_MAX, createGemm});
  r.add({"Conv", 1, INT_MAX, createConv});
}

}  // namespace topiary
