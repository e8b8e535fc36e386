// Sub: y = a - b with multidirectional broadcasting, any numeric type.
// Gradient: dy for a, -dy for b, each summed to the operand's shape.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Sub final : public BinaryKernel {
 public:
  explicit Sub(int64_t legacyAxis) : BinaryKernel(legacyAxis) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return forwardSameType("Sub", in, out, ctx, [](auto a, auto b) { return wrapSub(a, b); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(operandGrad(0, in, *gradOut[0], gradIn[0], ctx, [](float g, float, float) { return g; }));
    if (gradIn.size() > 1)
      TOPIARY_RETURN_IF_ERROR(
          operandGrad(1, in, *gradOut[0], gradIn[1], ctx, [](float g, float, float) { return -g; }));
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSub(const Node& node, int opset) { return make<Sub>(legacyAxisOf(node, opset)); }

}  // namespace topiary::ops
