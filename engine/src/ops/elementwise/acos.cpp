// Acos: y = acos(x), NaN outside [-1, 1]; dy/dx = -1 / sqrt(1 - x^2).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createAcos(const Node&, int) {
  return makeUnary(
      "Acos", kTranscendentalFlops, [](float x) { return std::acos(x); },
      [](float x, float, float gy) { return -gy / std::sqrt(1.f - x * x); });
}

}  // namespace topiary::ops
