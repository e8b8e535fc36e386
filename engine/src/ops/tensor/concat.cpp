// Concat: joins inputs along one axis; all other dimensions must agree. For
// each outer index the inputs' contiguous blocks are copied one after the
// other. The gradient splits the output gradient back into the inputs.
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Concat final : public Kernel {
 public:
  explicit Concat(int64_t axis) : axis_(axis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    if (in.empty()) return Status::badInput("Concat needs at least one input");
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, in.size(), "Concat"));
    const Tensor& first = *in[0];
    int64_t axis = axis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, first.rank(), "Concat axis"));
    if (first.rank() == 0) return Status::badInput("Concat cannot join scalars");
    Shape shape = first.shape();
    shape[static_cast<size_t>(axis)] = 0;
    for (const Tensor* t : in) {
      bool same = t->rank() == first.rank() && t->dtype() == first.dtype();
      for (int d = 0; same && d < first.rank(); ++d)
        if (d != axis && t->shape()[static_cast<size_t>(d)] != first.shape()[static_cast<size_t>(d)]) same = false;
      if (!same)
        return Status::badInput("Concat inputs " + shapeToString(first.shape()) + " " + dtypeName(first.dtype()) +
                                " and " + shapeToString(t->shape()) + " " + dtypeName(t->dtype()) +
                                " differ outside axis " + std::to_string(axis));
      shape[static_cast<size_t>(axis)] += t->shape()[static_cast<size_t>(axis)];
    }
    TOPIARY_RETURN_IF_ERROR(checkOutputShape(shape, first.dtype(), "Concat"));
    out[0]->resize(first.dtype(), shape);
    joinAlongAxis(in, *out[0], axis, ctx.threads);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[0], "Concat"));
    int64_t axis = axis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, in[0]->rank(), "Concat axis"));
    // Scratch tensors stand in for gradients nobody asked for.
    std::vector<Tensor> scratch(in.size());
    std::vector<Tensor*> targets(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      targets[i] = i < gradIn.size() && gradIn[i] ? gradIn[i] : &scratch[i];
      targets[i]->resize(DType::Float, in[i]->shape());
    }
    splitAlongAxis(*gradOut[0], targets, axis, ctx.threads);
    return Status::ok();
  }

 private:
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createConcat(const Node& node, int opset) {
  // Opset 1 defaulted the axis to 1; from opset 4 it is required.
  if (opset >= 4 && !node.hasAttr("axis")) return Status::badInput("Concat needs an 'axis' attribute");
  return make<Concat>(node.attrInt("axis", 1));
}

}  // namespace topiary::ops
