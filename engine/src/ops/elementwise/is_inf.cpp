// IsInf: y = x is +inf (when detect_positive, default 1) or -inf (when
// detect_negative, default 1), as bool, for float32 and float64. Not
// differentiable.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class IsInf final : public Kernel {
 public:
  IsInf(bool positive, bool negative) : positive_(positive), negative_(negative) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const bool pos = positive_, neg = negative_;
    return unaryPredicateFloating("IsInf", in, out, ctx,
                                  [pos, neg](auto x) { return std::isinf(x) && (x > 0 ? pos : neg); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }

 private:
  bool positive_, negative_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createIsInf(const Node& node, int) {
  return make<IsInf>(node.attrInt("detect_positive", 1) != 0, node.attrInt("detect_negative", 1) != 0);
}

}  // namespace topiary::ops
