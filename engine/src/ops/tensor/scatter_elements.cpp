// ScatterElements (and the deprecated Scatter of opsets 9..10, its earlier
// name): a copy of data in which, for every element i of indices, the
// position "i with its `axis` coordinate replaced by indices[i]" receives
// updates[i]. Negative indices count from the end; an index out of range is
// an error. From opset 16 `reduction` (add, mul; max, min from opset 18)
// combines the update with the existing value instead of replacing it.
#include "ops/elementwise/dispatch.h"
#include "ops/tensor/scatter_reduction.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class ScatterElements final : public Kernel {
 public:
  ScatterElements(std::string op, int64_t axis, ScatterReduction reduction)
      : op_(std::move(op)), axis_(axis), reduction_(reduction) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 3, op_.c_str()));
    const Tensor &x = *in[0], &indices = *in[1], &updates = *in[2];
    if (indices.dtype() != DType::Int64 && indices.dtype() != DType::Int32)
      return Status::badInput(op_ + " indices must be int64 or int32, got " + dtypeName(indices.dtype()));
    if (updates.dtype() != x.dtype()) return Status::badInput(op_ + " updates must have the type of data");
    if (x.rank() == 0 || indices.rank() != x.rank() || updates.shape() != indices.shape())
      return Status::badInput(op_ + " needs indices " + shapeToString(indices.shape()) + " and updates " +
                              shapeToString(updates.shape()) + " of one shape with the rank of data " +
                              shapeToString(x.shape()));
    int64_t axis = axis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank(), op_ + " axis"));
    for (int d = 0; d < x.rank(); ++d)
      if (d != axis && indices.shape()[static_cast<size_t>(d)] > x.shape()[static_cast<size_t>(d)])
        return Status::badInput(op_ + " indices " + shapeToString(indices.shape()) + " exceed data " +
                                shapeToString(x.shape()) + " on axis " + std::to_string(d));
    // Every target offset is checked before anything is written.
    const std::vector<int64_t> idx = indices.toInt64s();
    const Shape& shape = indices.shape();
    const auto xStrides = stridesOf(x.shape());
    const int64_t dim = x.shape()[static_cast<size_t>(axis)];
    offsets_.resize(idx.size());
    std::vector<int64_t> pos(shape.size(), 0);
    for (size_t i = 0; i < idx.size(); ++i) {
      int64_t k = idx[i];
      if (k < -dim || k >= dim)
        return Status::badInput(op_ + " index " + std::to_string(k) + " is out of range for dimension " +
                                std::to_string(dim));
      if (k < 0) k += dim;
      int64_t off = 0;
      for (size_t d = 0; d < shape.size(); ++d) off += (static_cast<int64_t>(d) == axis ? k : pos[d]) * xStrides[d];
      offsets_[i] = off;
      for (size_t d = shape.size(); d-- > 0;) {
        if (++pos[d] < shape[d]) break;
        pos[d] = 0;
      }
    }
    *out[0] = x;
    return scatterInto(*out[0], updates, offsets_, 1, reduction_, op_);
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return scatterFlops(in, reduction_);
  }

 private:
  std::string op_;
  int64_t axis_;
  ScatterReduction reduction_;
  std::vector<int64_t> offsets_;  // reused between runs
};

Result<std::unique_ptr<Kernel>> create(const std::string& op, const Node& node, int opset) {
  auto reduction = parseScatterReduction(node, opset, op);
  if (!reduction) return reduction.status();
  return make<ScatterElements>(op, node.attrInt("axis", 0), reduction.value());
}

}  // namespace

Result<std::unique_ptr<Kernel>> createScatterElements(const Node& node, int opset) {
  return create("ScatterElements", node, opset);
}
Result<std::unique_ptr<Kernel>> createScatter(const Node& node, int opset) { return create("Scatter", node, opset); }

}  // namespace topiary::ops
