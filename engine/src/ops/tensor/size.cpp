// Size: the input's element count as an int64 scalar.
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Size final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Size"));
    out[0]->resize(DType::Int64, {});
    out[0]->data<int64_t>()[0] = in[0]->numel();
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSize(const Node&, int) { return make<Size>(); }

}  // namespace topiary::ops
