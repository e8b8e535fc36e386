// Identity: y = x for a tensor of any type (a copy: outputs own their
// buffers). Gradient: dy.
#include <cstring>

#include "ops/common.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Identity final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Identity"));
    out[0]->resize(in[0]->dtype(), in[0]->shape());
    if (in[0]->bytes()) std::memcpy(out[0]->raw(), in[0]->raw(), in[0]->bytes());
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    gradIn[0]->resize(DType::Float, in[0]->shape());
    if (gradOut[0]->bytes()) std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
    return Status::ok();
  }
  // A copy does no arithmetic.
  double flops(const std::vector<Shape>&, const std::vector<Shape>&) const override { return 0.0; }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createIdentity(const Node&, int) { return make<Identity>(); }

}  // namespace topiary::ops
