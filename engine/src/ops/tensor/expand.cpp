// Expand: broadcasts the input to a shape given as the second input, with
// ONNX's two-way broadcasting rule (the result can be larger than that
// shape). A strided copy with stride 0 on the broadcast dimensions.
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Expand final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Expand"));
    const Tensor& x = *in[0];
    auto dims = readInts(*in[1], "Expand", "shape");
    if (!dims) return dims.status();
    for (int64_t d : dims.value())
      if (d < 0) return Status::badInput("Expand shape " + shapeToString(dims.value()) + " has a negative dimension");
    auto shape = broadcastShapes(x.shape(), dims.value());
    if (!shape) return shape.status().withContext("Expand");
    TOPIARY_RETURN_IF_ERROR(checkOutputShape(shape.value(), x.dtype(), "Expand"));
    // Input strides aligned to the right of the output; broadcast dims read stride 0.
    const Shape& s = shape.value();
    auto xs = stridesOf(x.shape());
    std::vector<int64_t> strides(s.size(), 0);
    const size_t lead = s.size() - x.shape().size();
    for (size_t d = 0; d < x.shape().size(); ++d) strides[lead + d] = x.shape()[d] == 1 ? 0 : xs[d];
    out[0]->resize(x.dtype(), s);
    stridedGather(x.raw(), out[0]->raw(), dtypeSize(x.dtype()), s, strides, 0, ctx.threads);
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createExpand(const Node&, int) { return make<Expand>(); }

}  // namespace topiary::ops
