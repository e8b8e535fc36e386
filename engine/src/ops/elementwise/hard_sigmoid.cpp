// HardSigmoid: y = clamp(alpha*x + beta, 0, 1) (alpha 0.2, beta 0.5 by
// default); dy/dx = alpha inside the linear part, 0 where clamped.
#include <algorithm>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class HardSigmoid final : public Kernel {
 public:
  HardSigmoid(float alpha, float beta) : alpha_(alpha), beta_(beta) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const float a = alpha_, b = beta_;
    return unaryForward("HardSigmoid", in, out, ctx,
                        [a, b](float x) { return std::min(1.f, std::max(0.f, a * x + b)); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    const float a = alpha_, b = beta_;
    return unaryBackward(in, out, gradOut, gradIn, ctx, [a, b](float x, float, float gy) {
      float v = a * x + b;
      return v > 0.f && v < 1.f ? a * gy : 0.f;
    });
  }
  // A multiply-add and a clamp.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 3.0); }

 private:
  float alpha_, beta_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createHardSigmoid(const Node& node, int) {
  return make<HardSigmoid>(node.attrFloat("alpha", 0.2f), node.attrFloat("beta", 0.5f));
}

}  // namespace topiary::ops
