// Div: y = a / b with multidirectional broadcasting, any numeric type.
// Integer division truncates toward zero; an integer division by zero gives
// 0 (as numpy does) rather than trapping. Gradient: dy/b for a and
// -dy*a/b^2 for b, summed over broadcast dims.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Div final : public BinaryKernel {
 public:
  explicit Div(int64_t legacyAxis) : BinaryKernel(legacyAxis) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return forwardSameType("Div", in, out, ctx, [](auto a, auto b) { return safeDiv(a, b); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(
        operandGrad(0, in, *gradOut[0], gradIn[0], ctx, [](float g, float, float b) { return g / b; }));
    if (gradIn.size() > 1)
      TOPIARY_RETURN_IF_ERROR(
          operandGrad(1, in, *gradOut[0], gradIn[1], ctx, [](float g, float a, float b) { return -g * a / (b * b); }));
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createDiv(const Node& node, int opset) { return make<Div>(legacyAxisOf(node, opset)); }

}  // namespace topiary::ops
