// HardSwish: y = x * clamp(x/6 + 1/2, 0, 1); dy/dx = 0 below -3, 1 above 3,
// (2x + 3)/6 in between.
#include <algorithm>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class HardSwish final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("HardSwish", in, out, ctx,
                        [](float x) { return x * std::min(1.f, std::max(0.f, x * (1.f / 6.f) + 0.5f)); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx, [](float x, float, float gy) {
      if (x <= -3.f) return 0.f;
      if (x >= 3.f) return gy;
      return gy * (2.f * x + 3.f) * (1.f / 6.f);
    });
  }
  // A multiply-add, a clamp and a product.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 4.0); }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createHardSwish(const Node&, int) { return make<HardSwish>(); }

}  // namespace topiary::ops
