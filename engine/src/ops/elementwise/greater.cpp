// Greater: elementwise a > b with broadcasting, for numeric and bool inputs;
// the output is bool. Not differentiable.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Greater final : public BinaryKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    return forwardCompare("Greater", in, out, ctx, [](auto a, auto b) { return a > b; });
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createGreater(const Node& node, int opset) {
  TOPIARY_RETURN_IF_ERROR(checkLegacyBroadcast(node, opset));
  return make<Greater>();
}

}  // namespace topiary::ops
