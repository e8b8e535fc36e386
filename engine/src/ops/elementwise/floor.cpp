// Floor: y = floor(x); the derivative is 0 almost everywhere.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createFloor(const Node&, int) {
  return makeUnary(
      "Floor", 1.0, [](float x) { return std::floor(x); }, [](float, float, float) { return 0.f; });
}

}  // namespace topiary::ops
