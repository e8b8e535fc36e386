// Softplus: y = ln(1 + exp(x)), computed without overflow; dy/dx = sigmoid(x).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSoftplus(const Node&, int) {
  return makeUnary(
      "Softplus", kTranscendentalFlops,
      [](float x) { return x > 0.f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); },
      [](float x, float, float gy) { return gy / (1.f + std::exp(-x)); });
}

}  // namespace topiary::ops
