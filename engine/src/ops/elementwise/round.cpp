// Round: y = x rounded to the nearest integer, halves to even (as ONNX specifies); the derivative is 0 almost
// everywhere.
#include <cmath>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Round final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return unaryForward("Round", in, out, ctx, [](float x) { return std::nearbyint(x); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx, [](float, float, float) { return 0.f; });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 1.0); }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createRound(const Node&, int) { return make<Round>(); }

}  // namespace topiary::ops
