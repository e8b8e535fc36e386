// LeakyRelu: y = x for x >= 0, alpha*x otherwise (alpha default 0.01).
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class LeakyRelu final : public Kernel {
 public:
  explicit LeakyRelu(float alpha) : alpha_(alpha) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const float a = alpha_;
    return unaryForward("LeakyRelu", in, out, ctx, [a](float x) { return x >= 0.f ? x : a * x; });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    const float a = alpha_;
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [a](float x, float, float gy) { return x >= 0.f ? gy : a * gy; });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }

 private:
  float alpha_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createLeakyRelu(const Node& node, int) {
  return make<LeakyRelu>(node.attrFloat("alpha", 0.01f));
}

}  // namespace topiary::ops
