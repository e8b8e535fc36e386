// Atan: y = atan(x); dy/dx = 1 / (1 + x^2).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createAtan(const Node&, int) {
  return makeUnary(
      "Atan", kTranscendentalFlops, [](float x) { return std::atan(x); },
      [](float x, float, float gy) { return gy / (1.f + x * x); });
}

}  // namespace topiary::ops
