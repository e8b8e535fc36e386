// Acosh: y = acosh(x), NaN below 1; dy/dx = 1 / sqrt(x^2 - 1).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createAcosh(const Node&, int) {
  return makeUnary(
      "Acosh", kTranscendentalFlops, [](float x) { return std::acosh(x); },
      [](float x, float, float gy) { return gy / std::sqrt(x * x - 1.f); });
}

}  // namespace topiary::ops
