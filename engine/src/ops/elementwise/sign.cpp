// Sign: y = -1, 0 or 1 by the sign of x; the derivative is 0 almost everywhere.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSign(const Node&, int) {
  return makeUnary(
      "Sign", 1.0, [](float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f); },
      [](float, float, float) { return 0.f; });
}

}  // namespace topiary::ops
