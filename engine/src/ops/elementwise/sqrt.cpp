// Sqrt: y = sqrt(x); dy/dx = 1 / (2y).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSqrt(const Node&, int) {
  return makeUnary(
      "Sqrt", 1.0, [](float x) { return std::sqrt(x); }, [](float, float y, float gy) { return gy / (2.f * y); });
}

}  // namespace topiary::ops
