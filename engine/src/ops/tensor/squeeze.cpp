// Squeeze: removes the listed axes (each of size 1), or every axis of size 1
// when none are given. Axes are an attribute before opset 13, an optional
// input from then on. A copy with a new shape; the gradient is a copy back.

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/shape_only.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Squeeze final : public ShapeOnlyKernel {
 public:
  Squeeze(bool fromAttr, std::vector<int64_t> axes)
      : ShapeOnlyKernel("Squeeze", 1), fromAttr_(fromAttr), axes_(std::move(axes)) {}

 private:
  Status outputShape(const std::vector<const Tensor*>& in, Shape& shape) const override {
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
