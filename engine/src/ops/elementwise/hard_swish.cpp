// HardSwish: y = x * clamp(x/6 + 1/2, 0, 1); dy/dx = 0 below -3, 1 above 3,
// (2x + 3)/6 in between.
#include <algorithm>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

// FLOPs: A multiply-add, a clamp and a product.
Result<std::unique_ptr<Kernel>> createHardSwish(const Node&, int) {
  return makeUnary(
      "HardSwish", 4.0, [](float x) { return x * std::min(1.f, std::max(0.f, x * (1.f / 6.f) + 0.5f)); },
      [](float x, float, float gy) {
        if (x <= -3.f) return 0.f;
        if (x >= 3.f) return gy;
        return gy * (2.f * x + 3.f) * (1.f / 6.f);
      });
}

}  // namespace topiary::ops
