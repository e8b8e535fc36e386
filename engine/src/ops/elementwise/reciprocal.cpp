// Reciprocal: y = 1/x; dy/dx = -y^2.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createReciprocal(const Node&, int) {
  return makeUnary(
      "Reciprocal", 1.0, [](float x) { return 1.f / x; }, [](float, float y, float gy) { return -gy * y * y; });
}

}  // namespace topiary::ops
