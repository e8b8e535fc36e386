// Sigmoid: y = 1 / (1 + exp(-x)); dy/dx = y (1 - y).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Sigmoid final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("Sigmoid", in, out, ctx, [](float x) { return 1.f / (1.f + std::exp(-x)); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx, [](float, float y, float gy) { return gy * y * (1.f - y); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return unaryFlops(in, kTranscendentalFlops);
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSigmoid(const Node&, int) { return make<Sigmoid>(); }

}  // namespace topiary::ops
