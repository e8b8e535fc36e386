// Range: start, start+delta, ... up to (excluding) limit, for scalar inputs of
// one numeric type; max(ceil((limit-start)/delta), 0) elements, each computed
// as start + i*delta in the input type.
#include <cmath>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Range final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 3, "Range"));
    const DType dt = in[0]->dtype();
    for (const Tensor* t : in) {
      if (t->numel() != 1 || t->rank() > 1)
        return Status::badInput("Range inputs must be scalars, got shape " + shapeToString(t->shape()));
      if (t->dtype() != dt) return Status::badInput("Range inputs must share one type");
    }
    switch (dt) {
      case DType::Float: return fill<float>(in, *out[0]);
      case DType::Double: return fill<double>(in, *out[0]);
      case DType::Int16: return fill<int16_t>(in, *out[0]);
      case DType::Int32: return fill<int32_t>(in, *out[0]);
      case DType::Int64: return fill<int64_t>(in, *out[0]);
      default: return Status::unsupported(std::string("Range does not support type ") + dtypeName(dt));
    }
  }

 private:
  template <class T>
  static Status fill(const std::vector<const Tensor*>& in, Tensor& y) {
    const T start = in[0]->data<T>()[0], limit = in[1]->data<T>()[0], delta = in[2]->data<T>()[0];
    if (delta == T(0)) return Status::badInput("Range delta is 0");
    // Counted in double: exact for the sizes a tensor can have.
    const double n = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
    if (!(n <= double(int64_t(1) << 32)))
      return Status::badInput("Range would produce " + std::to_string(n) + " elements");
    const int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
    y.resize(DTypeOf<T>::value, {count});
    T* p = y.data<T>();
    for (int64_t i = 0; i < count; ++i) p[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createRange(const Node&, int) { return make<Range>(); }

}  // namespace topiary::ops
