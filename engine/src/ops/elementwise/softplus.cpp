// Softplus: y = ln(1 + exp(x)), computed without overflow; dy/dx = sigmoid(x).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Softplus final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("Softplus", in, out, ctx,
                        [](float x) { return x > 0.f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [](float x, float, float gy) { return gy / (1.f + std::exp(-x)); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return unaryFlops(in, kTranscendentalFlops);
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSoftplus(const Node&, int) { return make<Softplus>(); }

}  // namespace topiary::ops
