// Squeeze: removes the listed axes (each of size 1), or every axis of size 1
// when none are given. Axes are an attribute before opset 13, an optional
// input from then on. A copy with a new shape; the gradient is a copy back.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Squeeze final : public Kernel {
 public:
  Squeeze(bool fromAttr, std::vector<int64_t> axes) : fromAttr_(fromAttr), axes_(std::move(axes)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Squeeze"));
    const Tensor& x = *in[0];
    Shape shape;
    TOPIARY_RETURN_IF_ERROR(outputShape(in, shape));
    out[0]->resize(x.dtype(), shape);
    if (x.bytes()) std::memcpy(out[0]->raw(), x.raw(), x.bytes());
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    zeroGradient(in, gradIn, 1);
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[0], "Squeeze"));
    if (gradOut[0]->numel() != in[0]->numel()) return Status::badInput("Squeeze gradient has the wrong size");
    gradIn[0]->resize(DType::Float, in[0]->shape());
    if (gradIn[0]->bytes()) std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
    return Status::ok();
  }

 private:
  Status outputShape(const std::vector<const Tensor*>& in, Shape& shape) const {
    const Shape& from = in[0]->shape();
    std::vector<int64_t> axes = axes_;
    if (!fromAttr_ && in.size() > 1 && in[1]) {
      auto a = readInts(*in[1], "Squeeze", "axes");
      if (!a) return a.status();
      axes = std::move(a.value());
    }
    const int64_t rank = static_cast<int64_t>(from.size());
    TOPIARY_RETURN_IF_ERROR(normalizeAxes(axes, rank, "Squeeze"));
    std::vector<bool> drop(from.size(), false);
    for (int64_t a : axes) {
      if (from[static_cast<size_t>(a)] != 1)
        return Status::badInput("Squeeze axis " + std::to_string(a) + " of shape " + shapeToString(from) + " is not 1");
      drop[static_cast<size_t>(a)] = true;
    }
    if (axes.empty())
      for (size_t d = 0; d < from.size(); ++d) drop[d] = from[d] == 1;
    shape.clear();
    for (size_t d = 0; d < from.size(); ++d)
      if (!drop[d]) shape.push_back(from[d]);
    return Status::ok();
  }

  bool fromAttr_;
  std::vector<int64_t> axes_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSqueeze(const Node& node, int opset) {
  if (opset >= 13 && node.hasAttr("axes"))
    return Status::badInput("Squeeze from opset 13 takes 'axes' as an input, not an attribute");
  return make<Squeeze>(opset < 13, node.attrInts("axes"));
}

}  // namespace topiary::ops
