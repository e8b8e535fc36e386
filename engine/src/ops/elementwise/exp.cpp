// Exp: y = exp(x); dy/dx = y.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createExp(const Node&, int) {
  return makeUnary(
      "Exp", kTranscendentalFlops, [](float x) { return std::exp(x); },
      [](float, float y, float gy) { return gy * y; });
}

}  // namespace topiary::ops
