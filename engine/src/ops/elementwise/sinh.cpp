// Sinh: y = sinh(x); dy/dx = cosh(x).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSinh(const Node&, int) {
  return makeUnary(
      "Sinh", kTranscendentalFlops, [](float x) { return std::sinh(x); },
      [](float x, float, float gy) { return gy * std::cosh(x); });
}

}  // namespace topiary::ops
