// Softsign: y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)^2.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Softsign final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("Softsign", in, out, ctx, [](float x) { return x / (1.f + std::fabs(x)); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [](float x, float, float gy) { return gy / ((1.f + std::fabs(x)) * (1.f + std::fabs(x))); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 3.0); }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSoftsign(const Node&, int) { return make<Softsign>(); }

}  // namespace topiary::ops
