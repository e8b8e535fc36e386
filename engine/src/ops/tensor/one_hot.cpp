// OneHot, opsets 9..latest: for indices of shape S, an output of shape S
// with a new axis of size `depth` inserted at `axis` (-1: last), holding
// on_value where the position equals the index and off_value elsewhere;
// values = [off_value, on_value] decides the output type. Indices and depth
// may be of any numeric type (fractions truncate). Negative indices count
// from the end (from opset 11); an index outside [-depth, depth) gives a row
// of off_value only, as ONNX specifies.
#include <cmath>
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class OneHot final : public Kernel {
 public:
  explicit OneHot(int64_t axis) : axis_(axis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 3, "OneHot"));
    const Tensor &indices = *in[0], &depthT = *in[1], &values = *in[2];
    for (const Tensor* t : {&indices, &depthT})
      if (t->dtype() == DType::Float16 || t->dtype() == DType::Bool)
        return Status::unsupported(std::string("OneHot does not support indices or depth of type ") +
                                   dtypeName(t->dtype()));
    if (depthT.numel() != 1 || depthT.rank() > 1)
      return Status::badInput("OneHot depth must be a single value, got shape " + shapeToString(depthT.shape()));
    const double dd = depthT.toDoubles()[0];
    if (!(dd >= 1) || dd > double(int64_t(1) << 40))
      return Status::badInput("OneHot depth " + std::to_string(dd) + " is not a usable positive count");
    const int64_t depth = static_cast<int64_t>(dd);
    if (values.numel() != 2 || values.rank() != 1)
      return Status::badInput("OneHot values must be [off_value, on_value], got shape " +
                              shapeToString(values.shape()));
    const int64_t rank = indices.rank();
    int64_t axis = axis_;
    if (axis < -rank - 1 || axis > rank)
      return Status::badInput("OneHot axis " + std::to_string(axis_) + " is out of range for indices of rank " +
                              std::to_string(rank));
    if (axis < 0) axis += rank + 1;
    Shape shape = indices.shape();
    shape.insert(shape.begin() + axis, depth);
    TOPIARY_RETURN_IF_ERROR(checkOutputShape(shape, values.dtype(), "OneHot"));
    out[0]->resize(values.dtype(), shape);
    if (out[0]->numel() == 0) return Status::ok();  // the other dimensions may multiply past int64
    int64_t inner = 1;
    for (int64_t d = axis; d < rank; ++d) inner *= indices.shape()[static_cast<size_t>(d)];
    const std::vector<double> idx = indices.toDoubles();
    const int64_t outer = inner > 0 ? static_cast<int64_t>(idx.size()) / inner : 0;
    withElementType(dtypeSize(values.dtype()), [&](auto tag) {
      using T = decltype(tag);
      T off, on;
      std::memcpy(&off, values.data<T>(), sizeof(T));
      std::memcpy(&on, values.data<T>() + 1, sizeof(T));
      T* y = out[0]->data<T>();
      std::fill(y, y + out[0]->numel(), off);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          double v = std::trunc(idx[static_cast<size_t>(o * inner + i)]);
          if (v < 0) v += static_cast<double>(depth);
          if (!(v >= 0 && v < static_cast<double>(depth))) continue;  // NaN too
          y[(o * depth + static_cast<int64_t>(v)) * inner + i] = on;
        }
    });
    return Status::ok();
  }

 private:
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createOneHot(const Node& node, int) { return make<OneHot>(node.attrInt("axis", -1)); }

}  // namespace topiary::ops
