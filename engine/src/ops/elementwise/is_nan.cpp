// IsNaN: y = isnan(x) as bool, for float32 and float64. Not differentiable.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class IsNaN final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryPredicateFloating("IsNaN", in, out, ctx, [](auto x) { return std::isnan(x); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createIsNaN(const Node&, int) { return make<IsNaN>(); }

}  // namespace topiary::ops
