// DequantizeLinear: y = (x - zero_point) * scale from int8, uint8 or int32,
// per tensor or, from opset 13, per axis. Topiary's QDQ export stores weights
// as int8 with per-channel scales and reads them through this operator.
#include "ops/quant/quant_axis.h"
#include "ops/quant/quant_ops.h"

namespace topiary::ops {
namespace {

template <class T>
void dequantize(const Tensor& x, const float* sc, const Tensor* zp, const QuantAxis& q, float* y) {
  const T* xs = x.data<T>();
  for (int64_t o = 0; o < q.outer; ++o)
    for (int64_t c = 0; c < q.channels; ++c) {
      int64_t k = q.perAxis ? c : 0;
      float s = sc[k];
      float z = zp ? static_cast<float>(zp->data<T>()[k]) : 0.f;
      int64_t base = (o * q.channels + c) * q.inner;
      for (int64_t i = 0; i < q.inner; ++i) y[base + i] = (static_cast<float>(xs[base + i]) - z) * s;
    }
}

class DequantizeLinear final : public Kernel {
 public:
  explicit DequantizeLinear(int64_t axis) : axis_(axis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "DequantizeLinear"));
    const Tensor& x = *in[0];
    const Tensor* zp = in.size() > 2 ? in[2] : nullptr;
    if (zp && zp->dtype() != x.dtype())
      return Status::badInput(std::string("DequantizeLinear: zero point type ") + dtypeName(zp->dtype()) +
                              " differs from x's " + dtypeName(x.dtype()));
    auto qa = quantAxisFor(x, *in[1], zp, axis_, "DequantizeLinear");
    if (!qa) return qa.status();
    Tensor& y = *out[0];
    y.resize(DType::Float, x.shape());
    const float* sc = in[1]->f();
    switch (x.dtype()) {
      case DType::Int8: dequantize<int8_t>(x, sc, zp, qa.value(), y.f()); break;
      case DType::UInt8: dequantize<uint8_t>(x, sc, zp, qa.value(), y.f()); break;
      case DType::Int32: dequantize<int32_t>(x, sc, zp, qa.value(), y.f()); break;
      default:
        return Status::unsupported(std::string("DequantizeLinear: input type ") + dtypeName(x.dtype()) +
                                   " (only int8, uint8, int32)");
    }
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0 : 2.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createDequantizeLinear(const Node& node, int) {
  return make<DequantizeLinear>(node.attrInt("axis", 1));
}

}  // namespace topiary::ops
