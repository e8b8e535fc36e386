// Mul: y = a * b with multidirectional broadcasting, any numeric type.
// Gradient: dy*b for a and dy*a for b, summed over broadcast dims.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"
#include "ops/nn/squeeze_excite.h"

namespace topiary::ops {
namespace {

class Mul final : public BinaryKernel {
 public:
  explicit Mul(int64_t legacyAxis) : BinaryKernel(legacyAxis) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return forwardSameType("Mul", in, out, ctx, [](auto a, auto b) { return wrapMul(a, b); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(
        operandGrad(0, in, *gradOut[0], gradIn[0], ctx, [](float g, float, float b) { return g * b; }));
    if (gradIn.size() > 1)
      TOPIARY_RETURN_IF_ERROR(
          operandGrad(1, in, *gradOut[0], gradIn[1], ctx, [](float g, float a, float) { return g * a; }));
    return Status::ok();
  }
};

}  // namespace

// A Mul that the inference optimiser made the end of a fused squeeze-excite
// chain carries topiary.squeeze_excite (see ops/nn/squeeze_excite.h).
Result<std::unique_ptr<Kernel>> createMul(const Node& node, int opset) {
  if (node.attrInt("topiary.squeeze_excite", 0) != 0) return createSqueezeExcite(node, opset);
  return make<Mul>(legacyAxisOf(node, opset));
}

}  // namespace topiary::ops
