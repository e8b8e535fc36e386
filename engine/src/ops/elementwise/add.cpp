// Add: y = a + b with multidirectional broadcasting, any numeric type
// (exporters compute shapes in int64). Gradient: dy summed to each
// operand's shape.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Add final : public BinaryKernel {
 public:
  explicit Add(int64_t legacyAxis) : BinaryKernel(legacyAxis) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return forwardSameType("Add", in, out, ctx, [](auto a, auto b) { return wrapAdd(a, b); });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    for (size_t k = 0; k < 2 && k < gradIn.size(); ++k)
      TOPIARY_RETURN_IF_ERROR(operandGrad(k, in, *gradOut[0], gradIn[k], ctx, [](float g, float, float) { return g; }));
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createAdd(const Node& node, int opset) { return make<Add>(legacyAxisOf(node, opset)); }

}  // namespace topiary::ops
