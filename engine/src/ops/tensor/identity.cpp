// Identity: a copy of the input (any type); the gradient passes through.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Identity final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Identity"));
    *out[0] = *in[0];
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[0], "Identity"));
    if (gradOut[0]->shape() != in[0]->shape()) return Status::badInput("Identity gradient has the wrong shape");
    *gradIn[0] = *gradOut[0];
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createIdentity(const Node&, int) { return make<Identity>(); }

}  // namespace topiary::ops
