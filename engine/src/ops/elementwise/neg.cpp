// Neg: y = -x, for every numeric type (integers wrap: -MIN is MIN).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Neg final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForwardNumeric("Neg", in, out, ctx, [](auto x) { return wrapSub(decltype(x)(0), x); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx, [](float, float, float gy) { return -gy; });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createNeg(const Node&, int) { return make<Neg>(); }

}  // namespace topiary::ops
