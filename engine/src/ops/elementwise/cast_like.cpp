// CastLike (opset 15): Cast to the element type of a second input.
// Gradient (float32 to float32 only): dy.
#include <cstring>

#include "ops/common.h"
#include "ops/elementwise/cast_util.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class CastLike final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "CastLike"));
    return castTensor(*in[0], *out[0], in[1]->dtype(), ctx.threads);
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    if (gradIn.empty() || !gradIn[0] || !gradOut[0]) return Status::ok();
    if (in[0]->dtype() != DType::Float || in[1]->dtype() != DType::Float)
      return Status::unsupported("CastLike passes gradients only from float32 to float32");
    gradIn[0]->resize(DType::Float, in[0]->shape());
    if (gradIn[0]->bytes()) std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
    return Status::ok();
  }
  double flops(const std::vector<Shape>&, const std::vector<Shape>&) const override { return 0.0; }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createCastLike(const Node&, int) { return make<CastLike>(); }

}  // namespace topiary::ops
