// Neg: y = -x, for every numeric type (integers wrap: -MIN is MIN).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createNeg(const Node&, int) {
  return makeUnaryNumeric(
      "Neg", 1.0, [](auto x) { return wrapSub(decltype(x)(0), x); }, [](float, float, float gy) { return -gy; });
}

}  // namespace topiary::ops
