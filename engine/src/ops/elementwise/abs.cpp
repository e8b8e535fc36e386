// Abs: y = |x| for every numeric type (integers wrap: |MIN| is MIN);
// dy/dx = sign(x) (0 at 0).
#include <cmath>
#include <type_traits>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Abs final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForwardNumeric("Abs", in, out, ctx, [](auto x) {
      using T = decltype(x);
      if constexpr (std::is_floating_point_v<T>)
        return std::fabs(x);
      else if constexpr (std::is_signed_v<T>)
        return x < 0 ? wrapSub(T(0), x) : x;
      else
        return x;
    });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [](float x, float, float gy) { return x > 0.f ? gy : (x < 0.f ? -gy : 0.f); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createAbs(const Node&, int) { return make<Abs>(); }

}  // namespace topiary::ops
