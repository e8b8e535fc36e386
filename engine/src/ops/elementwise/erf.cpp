// Erf: y = erf(x); dy/dx = 2/sqrt(pi) exp(-x^2).
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Erf final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("Erf", in, out, ctx, [](float x) { return std::erf(x); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [](float x, float, float gy) { return gy * 1.12837916709551257f * std::exp(-x * x); });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return unaryFlops(in, kTranscendentalFlops);
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createErf(const Node&, int) { return make<Erf>(); }

}  // namespace topiary::ops
