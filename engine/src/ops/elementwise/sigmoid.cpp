// Sigmoid: y = 1 / (1 + exp(-x)); dy/dx = y (1 - y).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSigmoid(const Node&, int) {
  return makeUnary(
      "Sigmoid", kTranscendentalFlops, [](float x) { return 1.f / (1.f + std::exp(-x)); },
      [](float, float y, float gy) { return gy * y * (1.f - y); });
}

}  // namespace topiary::ops
