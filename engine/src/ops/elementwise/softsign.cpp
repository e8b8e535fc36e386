// Softsign: y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)^2.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSoftsign(const Node&, int) {
  return makeUnary(
      "Softsign", 3.0, [](float x) { return x / (1.f + std::fabs(x)); },
      [](float x, float, float gy) { return gy / ((1.f + std::fabs(x)) * (1.f + std::fabs(x))); });
}

}  // namespace topiary::ops
