// GatherElements: out[i] = data[i with its `axis` coordinate replaced by
// indices[i]]; indices has data's rank and the output has indices' shape
// (other dimensions of indices may be smaller than data's).
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class GatherElements final : public Kernel {
 public:
  explicit GatherElements(int64_t axis) : axis_(axis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "GatherElements"));
    const Tensor& x = *in[0];
    const Tensor& indices = *in[1];
    if (indices.dtype() != DType::Int64 && indices.dtype() != DType::Int32)
      return Status::badInput(std::string("GatherElements indices must be int64 or int32, got ") + dtypeName(indices.dtype()));
    if (x.rank() == 0 || indices.rank() != x.rank())
      return Status::badInput("GatherElements indices " + shapeToString(indices.shape()) + " must have the rank of data " +
                              shapeToString(x.shape()));
    int64_t axis = axis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank(), "GatherElements axis"));
    for (int d = 0; d < x.rank(); ++d)
      if (d != axis && indices.shape()[static_cast<size_t>(d)] > x.shape()[static_cast<size_t>(d)])
        return Status::badInput("GatherElements indices " + shapeToString(indices.shape()) + " exceed data " +
                                shapeToString(x.shape()) + " on axis " + std::to_string(d));
    const std::vector<int64_t> idx = indices.toInt64s();
    const auto xStrides = stridesOf(x.shape());
    const Shape& shape = indices.shape();
    const int64_t dim = x.shape()[static_cast<size_t>(axis)];
    out[0]->resize(x.dtype(), shape);
    Status st;
    withElementType(dtypeSize(x.dtype()), [&](auto tag) {
      using T = decltype(tag);
      const T* src = x.data<T>();
      T* dst = out[0]->data<T>();
      std::vector<int64_t> pos(shape.size(), 0);
      for (int64_t i = 0; i < static_cast<int64_t>(idx.size()); ++i) {
        int64_t k = idx[static_cast<size_t>(i)];
        if (k < -dim || k >= dim) {
          st = Status::badInput("GatherElements index " + std::to_string(k) + " is out of range for dimension " +
                                std::to_string(dim));
          return;
        }
        if (k < 0) k += dim;
        int64_t off = 0;
        for (size_t d = 0; d < shape.size(); ++d)
          off += (static_cast<int64_t>(d) == axis ? k : pos[d]) * xStrides[d];
        dst[i] = src[off];
        for (size_t d = shape.size(); d-- > 0;) {
          if (++pos[d] < shape[d]) break;
          pos[d] = 0;
        }
      }
    });
    return st;
  }

 private:
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createGatherElements(const Node& node, int) {
  return make<GatherElements>(node.attrInt("axis", 0));
}

}  // namespace topiary::ops
