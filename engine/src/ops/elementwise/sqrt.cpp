// Sqrt: y = sqrt(x); dy/dx = 1 / (2y).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Sqrt final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("Sqrt", in, out, ctx, [](float x) { return std::sqrt(x); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx, [](float, float y, float gy) { return gy / (2.f * y); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSqrt(const Node&, int) { return make<Sqrt>(); }

}  // namespace topiary::ops
