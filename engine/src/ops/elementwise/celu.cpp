// Celu: y = max(0, x) + min(0, alpha*(exp(x/alpha) - 1)) (alpha default 1,
// must not be 0); dy/dx = 1 for x > 0, exp(x/alpha) otherwise.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Celu final : public Kernel {
 public:
  explicit Celu(float alpha) : alpha_(alpha) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const float a = alpha_;
    return unaryForward("Celu", in, out, ctx, [a](float x) { return x > 0.f ? x : a * std::expm1(x / a); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    const float a = alpha_;
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [a](float x, float, float gy) { return x > 0.f ? gy : gy * std::exp(x / a); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return unaryFlops(in, kTranscendentalFlops);
  }

 private:
  float alpha_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createCelu(const Node& node, int) {
  const float alpha = node.attrFloat("alpha", 1.f);
  if (alpha == 0.f || !std::isfinite(alpha))
    return Status::badInput("Celu alpha must be finite and nonzero, got " + std::to_string(alpha));
  return make<Celu>(alpha);
}

}  // namespace topiary::ops
