// Erf: y = erf(x); dy/dx = 2/sqrt(pi) exp(-x^2).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createErf(const Node&, int) {
  return makeUnary(
      "Erf", kTranscendentalFlops, [](float x) { return std::erf(x); },
      [](float x, float, float gy) { return gy * 1.12837916709551257f * std::exp(-x * x); });
}

}  // namespace topiary::ops
