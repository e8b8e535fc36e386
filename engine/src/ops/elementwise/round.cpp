// Round: y = x rounded to the nearest integer, halves to even (as ONNX specifies); the derivative is 0 almost
// everywhere.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createRound(const Node&, int) {
  return makeUnary(
      "Round", 1.0, [](float x) { return std::nearbyint(x); }, [](float, float, float) { return 0.f; });
}

}  // namespace topiary::ops
