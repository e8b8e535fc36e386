// Flatten: [d0..dk-1, dk..dn] -> [d0*..*dk-1, dk*..*dn]; a copy with a new shape.
#include "ops/tensor/shape_only.h"
#include "ops/tensor/tensor_ops.h"

namespace topiary::ops {
namespace {

class Flatten final : public ShapeOnlyKernel {
 public:
  explicit Flatten(int64_t axis) : ShapeOnlyKernel("Flatten", 1), axis_(axis) {}

 private:
  Status outputShape(const std::vector<const Tensor*>& in, Shape& shape) const override {
    const Tensor& x = *in[0];
    int64_t axis = axis_;
    if (axis < -x.rank() || axis > x.rank())
      return Status::badInput("Flatten axis " + std::to_string(axis_) + " out of range for rank " + std::to_string(x.rank()));
    if (axis < 0) axis += x.rank();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < x.rank(); ++i) (i < axis ? outer : inner) *= x.shape()[static_cast<size_t>(i)];
    shape = {outer, inner};
    return Status::ok();
  }

  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createFlatten(const Node& node, int) {
  return make<Flatten>(node.attrInt("axis", 1));
}

}  // namespace topiary::ops
