// QuantizeLinear: y = saturate(round_half_even(x / scale) + zero_point), to
// uint8 (default) or int8 as the zero point's type says; per tensor or, from
// opset 13, per axis.
#include <cmath>

#include "ops/quant/quant_axis.h"
#include "ops/quant/quant_ops.h"

namespace topiary::ops {
namespace {

class QuantizeLinear final : public Kernel {
 public:
  explicit QuantizeLinear(int64_t axis) : axis_(axis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "QuantizeLinear"));
    const Tensor& x = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(x, "QuantizeLinear", "x"));
    const Tensor* zp = in.size() > 2 ? in[2] : nullptr;
    DType outType = zp ? zp->dtype() : DType::UInt8;
    if (outType != DType::UInt8 && outType != DType::Int8)
      return Status::unsupported(std::string("QuantizeLinear: zero point type ") + dtypeName(outType) +
                                 " (only uint8 and int8)");
    auto qa = quantAxisFor(x, *in[1], zp, axis_, "QuantizeLinear");
    if (!qa) return qa.status();
    Tensor& y = *out[0];
    y.resize(outType, x.shape());
    const float* xs = x.f();
    const float* sc = in[1]->f();
    float lo = outType == DType::UInt8 ? 0.f : -128.f, hi = outType == DType::UInt8 ? 255.f : 127.f;
    const QuantAxis& q = qa.value();
    for (int64_t o = 0; o < q.outer; ++o)
      for (int64_t c = 0; c < q.channels; ++c) {
        float s = sc[q.perAxis ? c : 0];
        float z = 0.f;
        if (zp) z = outType == DType::UInt8 ? zp->data<uint8_t>()[q.perAxis ? c : 0] : zp->data<int8_t>()[q.perAxis ? c : 0];
        int64_t base = (o * q.channels + c) * q.inner;
        for (int64_t i = 0; i < q.inner; ++i) {
          // std::nearbyint rounds half to even in the default rounding mode, as ONNX asks.
          float v = std::min(hi, std::max(lo, std::nearbyint(xs[base + i] / s) + z));
          if (outType == DType::UInt8) y.data<uint8_t>()[base + i] = static_cast<uint8_t>(v);
          else y.data<int8_t>()[base + i] = static_cast<int8_t>(v);
        }
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

Result<std::unique_ptr<Kernel>> createQuantizeLinear(const Node& node, int) {
  return make<QuantizeLinear>(node.attrInt("axis", 1));
}

}  // namespace topiary::ops
