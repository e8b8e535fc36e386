// Tan: y = tan(x); dy/dx = 1 + y^2.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createTan(const Node&, int) {
  return makeUnary(
      "Tan", kTranscendentalFlops, [](float x) { return std::tan(x); },
      [](float, float y, float gy) { return gy * (1.f + y * y); });
}

}  // namespace topiary::ops
