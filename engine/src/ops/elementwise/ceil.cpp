// Ceil: y = ceil(x); the derivative is 0 almost everywhere.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createCeil(const Node&, int) {
  return makeUnary(
      "Ceil", 1.0, [](float x) { return std::ceil(x); }, [](float, float, float) { return 0.f; });
}

}  // namespace topiary::ops
