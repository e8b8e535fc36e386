// Transpose: out dim i = in dim perm[i] (default: reversed). A strided copy
// of any element type; the gradient is the inverse permutation.
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Transpose final : public Kernel {
 public:
  explicit Transpose(std::vector<int64_t> perm) : perm_(std::move(perm)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Transpose"));
    const Tensor& x = *in[0];
    std::vector<int64_t> perm;
    TOPIARY_RETURN_IF_ERROR(permFor(x.rank(), perm));
    auto inStrides = stridesOf(x.shape());
    Shape shape(perm.size());
    std::vector<int64_t> strides(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      shape[i] = x.shape()[static_cast<size_t>(perm[i])];
      strides[i] = inStrides[static_cast<size_t>(perm[i])];
    }
    out[0]->resize(x.dtype(), shape);
    stridedGather(x.raw(), out[0]->raw(), dtypeSize(x.dtype()), shape, strides, 0, ctx.threads);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[0], "Transpose"));
    const Tensor& x = *in[0];
    std::vector<int64_t> perm;
    TOPIARY_RETURN_IF_ERROR(permFor(x.rank(), perm));
    // gradOut[j] lands at the input position its forward element came from.
    auto inStrides = stridesOf(x.shape());
    std::vector<int64_t> strides(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) strides[i] = inStrides[static_cast<size_t>(perm[i])];
    gradIn[0]->resize(DType::Float, x.shape());
    stridedScatter(gradOut[0]->raw(), gradIn[0]->raw(), sizeof(float), gradOut[0]->shape(), strides, 0, ctx.threads);
    return Status::ok();
  }

 private:
  Status permFor(int rank, std::vector<int64_t>& perm) const {
    if (perm_.empty()) {
      for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
      return Status::ok();
    }
    if (static_cast<int>(perm_.size()) != rank)
      return Status::badInput("Transpose perm has " + std::to_string(perm_.size()) + " entries but the input has rank " +
                              std::to_string(rank));
    perm = perm_;
    return Status::ok();
  }

  std::vector<int64_t> perm_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createTranspose(const Node& node, int) {
  std::vector<int64_t> perm = node.attrInts("perm");
  // A permutation of 0..n-1 (checked once; the rank is checked per run).
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen[static_cast<size_t>(p)])
      return Status::badInput("Transpose perm " + shapeToString(perm) + " is not a permutation");
    seen[static_cast<size_t>(p)] = true;
  }
  return make<Transpose>(std::move(perm));
}

}  // namespace topiary::ops
