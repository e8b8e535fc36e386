// ThresholdedRelu: y = x for x > alpha, 0 otherwise (alpha default 1);
// dy/dx = 1 above the threshold, 0 below.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class ThresholdedRelu final : public Kernel {
 public:
  explicit ThresholdedRelu(float alpha) : alpha_(alpha) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const float a = alpha_;
    return unaryForward("ThresholdedRelu", in, out, ctx, [a](float x) { return x > a ? x : 0.f; });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    const float a = alpha_;
    return unaryBackward(in, out, gradOut, gradIn, ctx, [a](float x, float, float gy) { return x > a ? gy : 0.f; });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }

 private:
  float alpha_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createThresholdedRelu(const Node& node, int) {
  return make<ThresholdedRelu>(node.attrFloat("alpha", 1.f));
}

}  // namespace topiary::ops
