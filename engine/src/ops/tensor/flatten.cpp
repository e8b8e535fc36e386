// Flatten: [d0..dk-1, dk..dn] -> [d0*..*dk-1, dk*..*dn]; a copy with a new shape.
#include <cstring>

#include "ops/common.h"
#include "ops/tensor/tensor_ops.h"

namespace topiary::ops {
namespace {

class Flatten final : public Kernel {
 public:
  explicit Flatten(int64_t axis) : axis_(axis) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Flatten"));
    const Tensor& x = *in[0];
    int64_t axis = axis_;
    if (axis < -x.rank() || axis > x.rank())
      return Status::badInput("Flatten axis " + std::to_string(axis_) + " out of range for rank " + std::to_string(x.rank()));
    if (axis < 0) axis += x.rank();
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[static_cast<size_t>(i)];
    int64_t inner = outer == 0 ? 0 : x.numel() / std::max<int64_t>(outer, 1);
    if (outer == 0) {
      inner = 1;
      for (int64_t i = axis; i < x.rank(); ++i) inner *= x.shape()[static_cast<size_t>(i)];
    }
    out[0]->resize(x.dtype(), {outer, inner});
    if (x.bytes()) std::memcpy(out[0]->raw(), x.raw(), x.bytes());
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    gradIn[0]->resize(DType::Float, in[0]->shape());
    std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
    return Status::ok();
  }

 private:
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createFlatten(const Node& node, int) {
  return make<Flatten>(node.attrInt("axis", 1));
}

}  // namespace topiary::ops
