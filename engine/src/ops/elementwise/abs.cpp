// Abs: y = |x| for every numeric type (integers wrap: |MIN| is MIN);
// dy/dx = sign(x) (0 at 0).
#include <cmath>
#include <type_traits>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createAbs(const Node&, int) {
  return makeUnaryNumeric(
      "Abs", 1.0,
      [](auto x) {
        using T = decltype(x);
        if constexpr (std::is_floating_point_v<T>)
          return std::fabs(x);
        else if constexpr (std::is_signed_v<T>)
          return x < 0 ? wrapSub(T(0), x) : x;
        else
          return x;
      },
      [](float x, float, float gy) { return x > 0.f ? gy : (x < 0.f ? -gy : 0.f); });
}

}  // namespace topiary::ops
