// Log: y = ln(x); dy/dx = 1/x.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createLog(const Node&, int) {
  return makeUnary(
      "Log", kTranscendentalFlops, [](float x) { return std::log(x); },
      [](float x, float, float gy) { return gy / x; });
}

}  // namespace topiary::ops
