// Cosh: y = cosh(x); dy/dx = sinh(x).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createCosh(const Node&, int) {
  return makeUnary(
      "Cosh", kTranscendentalFlops, [](float x) { return std::cosh(x); },
      [](float x, float, float gy) { return gy * std::sinh(x); });
}

}  // namespace topiary::ops
