// Cos: y = cos(x); dy/dx = -sin(x).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createCos(const Node&, int) {
  return makeUnary(
      "Cos", kTranscendentalFlops, [](float x) { return std::cos(x); },
      [](float x, float, float gy) { return -gy * std::sin(x); });
}

}  // namespace topiary::ops
