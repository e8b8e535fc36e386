// ConstantOfShape: a tensor of the shape given by the input (1-D int64),
// filled with the single element of the `value` attribute (float 0 when
// absent); the output takes value's dtype.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class ConstantOfShape final : public Kernel {
 public:
  explicit ConstantOfShape(Tensor value) : value_(std::move(value)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "ConstantOfShape"));
    auto dims = readInts(*in[0], "ConstantOfShape", "shape");
    if (!dims) return dims.status();
    Shape shape(dims->begin(), dims->end());
    TOPIARY_RETURN_IF_ERROR(checkOutputShape(shape, value_.dtype(), "ConstantOfShape"));
    out[0]->resize(value_.dtype(), shape);
    withElementType(dtypeSize(value_.dtype()), [&](auto tag) {
      using T = decltype(tag);
      T v;
      std::memcpy(&v, value_.raw(), sizeof(T));
      std::fill(out[0]->data<T>(), out[0]->data<T>() + out[0]->numel(), v);
    });
    return Status::ok();
  }

 private:
  Tensor value_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createConstantOfShape(const Node& node, int) {
  Tensor value = Tensor::scalar(0.f);
  if (node.hasAttr("value")) {
    const Tensor* t = node.attrTensor("value");
    if (!t || t->numel() != 1)
      return Status::badInput("ConstantOfShape 'value' must be a tensor of one element");
    value = *t;
  }
  return make<ConstantOfShape>(std::move(value));
}

}  // namespace topiary::ops
