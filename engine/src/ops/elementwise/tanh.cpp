// Tanh: y = tanh(x); dy/dx = 1 - y^2.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createTanh(const Node&, int) {
  return makeUnary(
      "Tanh", kTranscendentalFlops, [](float x) { return std::tanh(x); },
      [](float, float y, float gy) { return gy * (1.f - y * y); });
}

}  // namespace topiary::ops
