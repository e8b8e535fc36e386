// Unsqueeze: inserts size-1 axes at the listed positions of the output.
// Axes are an attribute before opset 13 and a required input from then on;
// they index the output (rank + number of axes) and may be negative.

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/shape_only.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Unsqueeze final : public ShapeOnlyKernel {
 public:
  Unsqueeze(bool fromAttr, std::vector<int64_t> axes)
      : ShapeOnlyKernel("Unsqueeze", fromAttr ? 1 : 2), fromAttr_(fromAttr), axes_(std::move(axes)) {}

 private:
  Status outputShape(const std::vector<const Tensor*>& in, Shape& shape) const override {
    const Shape& from = in[0]->shape();
    std::vector<int64_t> axes = axes_;
    if (!fromAttr_) {
      auto a = readInts(*in[1], "Unsqueeze", "axes");
      if (!a) return a.status();
      axes = std::move(a.value());
    }
    if (axes.empty()) return Status::badInput("Unsqueeze needs at least one axis");
    const int64_t rank = static_cast<int64_t>(from.size() + axes.size());
    TOPIARY_RETURN_IF_ERROR(normalizeAxes(axes, rank, "Unsqueeze"));
    std::vector<bool> inserted(static_cast<size_t>(rank), false);
    for (int64_t a : axes) inserted[static_cast<size_t>(a)] = true;
    shape.clear();
    size_t next = 0;
    for (int64_t d = 0; d < rank; ++d) shape.push_back(inserted[static_cast<size_t>(d)] ? 1 : from[next++]);
    return Status::ok();
  }

  bool fromAttr_;
  std::vector<int64_t> axes_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createUnsqueeze(const Node& node, int opset) {
  if (opset < 13) {
    if (!node.hasAttr("axes")) return Status::badInput("Unsqueeze (opset < 13) needs an 'axes' attribute");
    return make<Unsqueeze>(true, node.attrInts("axes"));
  }
  if (node.hasAttr("axes")) return Status::badInput("Unsqueeze from opset 13 takes 'axes' as an input, not an attribute");
  return make<Unsqueeze>(false, std::vector<int64_t>{});
}

}  // namespace topiary::ops
