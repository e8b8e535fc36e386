// Exp: y = exp(x); dy/dx = y.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Exp final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("Exp", in, out, ctx, [](float x) { return std::exp(x); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx, [](float, float y, float gy) { return gy * y; });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return unaryFlops(in, kTranscendentalFlops);
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createExp(const Node&, int) { return make<Exp>(); }

}  // namespace topiary::ops
