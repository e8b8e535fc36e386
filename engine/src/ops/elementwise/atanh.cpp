// Atanh: y = atanh(x), NaN outside [-1, 1]; dy/dx = 1 / (1 - x^2).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createAtanh(const Node&, int) {
  return makeUnary(
      "Atanh", kTranscendentalFlops, [](float x) { return std::atanh(x); },
      [](float x, float, float gy) { return gy / (1.f - x * x); });
}

}  // namespace topiary::ops
