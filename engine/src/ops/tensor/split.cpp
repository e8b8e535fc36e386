// Split: cuts the input along one axis into the node's outputs. Sizes come
// from the `split` attribute (opset < 13; opset 1 also took it as a second
// input), the second input (opset >= 13), `num_outputs` (opset 18: equal
// parts, the last one smaller), or else equal parts, one per output.
// The gradient joins the output gradients (zeros where none arrive).
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Split final : public Kernel {
 public:
  Split(int64_t axis, std::vector<int64_t> split, int64_t numOutputs)
      : axis_(axis), attrSplit_(std::move(split)), numOutputs_(numOutputs) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Split"));
    const Tensor& x = *in[0];
    int64_t axis = axis_;
    std::vector<int64_t> sizes;
    TOPIARY_RETURN_IF_ERROR(plan(in, out.size(), axis, sizes));
    std::vector<Tensor> scratch(out.size());
    std::vector<Tensor*> parts(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      parts[i] = out[i] ? out[i] : &scratch[i];
      Shape s = x.shape();
      s[static_cast<size_t>(axis)] = sizes[i];
      parts[i]->resize(x.dtype(), s);
    }
    splitAlongAxis(x, parts, axis, ctx.threads);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    zeroGradient(in, gradIn, 1);
    if (!gradIn[0]) return Status::ok();
    int64_t axis = axis_;
    std::vector<int64_t> sizes;
    TOPIARY_RETURN_IF_ERROR(plan(in, out.size(), axis, sizes));
    std::vector<Tensor> zeros(out.size());
    std::vector<const Tensor*> parts(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      if (i < gradOut.size() && gradOut[i]) {
        TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[i], "Split"));
        parts[i] = gradOut[i];
      } else {
        Shape s = in[0]->shape();
        s[static_cast<size_t>(axis)] = sizes[i];
        zeros[i] = Tensor(DType::Float, s);
        parts[i] = &zeros[i];
      }
    }
    gradIn[0]->resize(DType::Float, in[0]->shape());
    joinAlongAxis(parts, *gradIn[0], axis, ctx.threads);
    return Status::ok();
  }

 private:
  // The size of every output along the (normalised) axis.
  Status plan(const std::vector<const Tensor*>& in, size_t outputs, int64_t& axis, std::vector<int64_t>& sizes) const {
    const Tensor& x = *in[0];
    if (x.rank() == 0) return Status::badInput("Split cannot split a scalar");
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank(), "Split axis"));
    const int64_t dim = x.shape()[static_cast<size_t>(axis)];
    const int64_t n = static_cast<int64_t>(outputs);
    if (n == 0) return Status::badInput("Split has no outputs");
    if (in.size() > 1 && in[1]) {
      auto s = readInts(*in[1], "Split", "split");
      if (!s) return s.status();
      sizes = std::move(s.value());
    } else if (!attrSplit_.empty()) {
      sizes = attrSplit_;
    } else if (numOutputs_ > 0) {
      if (numOutputs_ != n)
        return Status::badInput("Split num_outputs is " + std::to_string(numOutputs_) + " but the node has " +
                                std::to_string(n) + " outputs");
      const int64_t chunk = (dim + n - 1) / n;
      for (int64_t i = 0; i < n; ++i) sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
    } else {
      if (dim % n != 0)
        return Status::badInput("Split cannot cut dimension " + std::to_string(dim) + " into " + std::to_string(n) +
                                " equal parts");
      sizes.assign(static_cast<size_t>(n), dim / n);
    }
    if (static_cast<int64_t>(sizes.size()) != n)
      return Status::badInput("Split lists " + std::to_string(sizes.size()) + " sizes for " + std::to_string(n) + " outputs");
    int64_t total = 0;
    for (int64_t s : sizes) {
      if (s < 0) return Status::badInput("Split sizes " + shapeToString(sizes) + " include a negative value");
      total += s;
    }
    if (total != dim)
      return Status::badInput("Split sizes " + shapeToString(sizes) + " add up to " + std::to_string(total) +
                              ", not to dimension " + std::to_string(dim));
    return Status::ok();
  }

  int64_t axis_;
  std::vector<int64_t> attrSplit_;
  int64_t numOutputs_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSplit(const Node& node, int opset) {
  if (opset >= 13 && node.hasAttr("split"))
    return Status::badInput("Split from opset 13 takes 'split' as an input, not an attribute");
  int64_t numOutputs = node.attrInt("num_outputs", 0);
  if (node.hasAttr("num_outputs") && (numOutputs < 1 || numOutputs != static_cast<int64_t>(node.outputs.size())))
    return Status::badInput("Split num_outputs " + std::to_string(numOutputs) + " does not match its " +
                            std::to_string(node.outputs.size()) + " outputs");
  if (node.outputs.empty()) return Status::badInput("Split has no outputs");
  return make<Split>(node.attrInt("axis", 0), node.attrInts("split"), numOutputs);
}

}  // namespace topiary::ops
