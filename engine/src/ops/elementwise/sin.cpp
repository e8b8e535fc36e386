// Sin: y = sin(x); dy/dx = cos(x).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSin(const Node&, int) {
  return makeUnary(
      "Sin", kTranscendentalFlops, [](float x) { return std::sin(x); },
      [](float x, float, float gy) { return gy * std::cos(x); });
}

}  // namespace topiary::ops
