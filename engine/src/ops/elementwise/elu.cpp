// Elu: y = x for x > 0, alpha*(exp(x) - 1) otherwise (alpha default 1);
// dy/dx = 1 or y + alpha. Selu is the same curve scaled by gamma with
// fixed defaults, and shares this kernel.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Elu final : public Kernel {
 public:
  Elu(const char* name, float alpha, float gamma) : name_(name), alpha_(alpha), gamma_(gamma) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const float a = alpha_, g = gamma_;
    return unaryForward(name_, in, out, ctx, [a, g](float x) { return g * (x > 0.f ? x : a * std::expm1(x)); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    const float a = alpha_, g = gamma_;
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [a, g](float x, float y, float gy) { return x > 0.f ? g * gy : gy * (y + g * a); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return unaryFlops(in, kTranscendentalFlops);
  }

 private:
  const char* name_;
  float alpha_, gamma_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createElu(const Node& node, int) {
  return make<Elu>("Elu", node.attrFloat("alpha", 1.f), 1.f);
}

Result<std::unique_ptr<Kernel>> createSelu(const Node& node, int) {
  return make<Elu>("Selu", node.attrFloat("alpha", 1.67326319217681884765625f),
                   node.attrFloat("gamma", 1.05070102214813232421875f));
}

}  // namespace topiary::ops
