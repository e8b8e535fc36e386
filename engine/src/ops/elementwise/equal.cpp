// Equal: elementwise a == b with broadcasting, for numeric and bool inputs;
// the output is bool. Not differentiable.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Equal final : public BinaryKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return forwardCompare("Equal", in, out, ctx, [](auto a, auto b) { return a == b; });
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createEqual(const Node& node, int opset) {
  TOPIARY_RETURN_IF_ERROR(checkLegacyBroadcast(node, opset));
  return make<Equal>();
}

}  // namespace topiary::ops
