// Or: elementwise logical Or of two broadcast bool tensors.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Or final : public BinaryKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(plan("Or", in));
    if (in[0]->dtype() != DType::Bool || in[1]->dtype() != DType::Bool)
      return Status::badInput(std::string("Or needs bool inputs, got ") + dtypeName(in[0]->dtype()) + " and " +
                              dtypeName(in[1]->dtype()));
    out[0]->resize(DType::Bool, outShape_);
    runBinary(plan_, in[0]->data<uint8_t>(), in[1]->data<uint8_t>(), out[0]->data<uint8_t>(), ctx.threads,
              [](uint8_t a, uint8_t b) { return static_cast<uint8_t>((a != 0) | (b != 0)); });
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createOr(const Node& node, int opset) {
  TOPIARY_RETURN_IF_ERROR(checkLegacyBroadcast(node, opset));
  return make<Or>();
}

}  // namespace topiary::ops
