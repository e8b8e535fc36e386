// Clip: y = min(max(x, lo), hi). Bounds are attributes before opset 11 and
// optional scalar inputs from 11 on (any numeric type from 12 on). When
// lo > hi every element becomes hi, as ONNX specifies.
// Gradient: dy where lo <= x <= hi, else 0; the bounds receive the sum of dy
// over the elements they clipped.
#include <algorithm>
#include <limits>

#include "ops/elementwise/dispatch.h"
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Clip final : public Kernel {
 public:
  // Attribute bounds (opset < 11); ignored when bounds come as inputs.
  Clip(float lo, float hi, bool boundsAreInputs) : lo_(lo), hi_(hi), inputs_(boundsAreInputs) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Clip"));
    const Tensor& X = *in[0];
    for (size_t k = 1; k < 3 && inputs_; ++k) {
      if (k >= in.size() || !in[k]) continue;
      if (in[k]->numel() != 1)
        return Status::badInput("Clip " + std::string(k == 1 ? "min" : "max") + " must be a scalar, got shape " +
                                shapeToString(in[k]->shape()));
      if (in[k]->dtype() != X.dtype())
        return Status::badInput(std::string("Clip bound has type ") + dtypeName(in[k]->dtype()) + ", input has " +
                                dtypeName(X.dtype()));
    }
    out[0]->resize(X.dtype(), X.shape());
    Tensor& Y = *out[0];
    bool ok = visitNumeric(X.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
      if (!inputs_) {
        lo = saturateCast<T>(lo_);
        hi = saturateCast<T>(hi_);
      } else {
        if (in.size() > 1 && in[1]) lo = in[1]->data<T>()[0];
        if (in.size() > 2 && in[2]) hi = in[2]->data<T>()[0];
      }
      const T* x = X.data<T>();
      T* y = Y.data<T>();
      parallelFor(
          X.numel(), ctx.threads,
          [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) y[i] = std::min(std::max(x[i], lo), hi);
          },
          1 << 14);
    });
    if (!ok) return Status::unsupported(std::string("Clip on ") + dtypeName(X.dtype()) + " tensors is not supported");
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[0], "Clip"));
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (!inputs_) {
      lo = lo_;
      hi = hi_;
    } else {
      if (in.size() > 1 && in[1]) lo = in[1]->f()[0];
      if (in.size() > 2 && in[2]) hi = in[2]->f()[0];
    }
    TOPIARY_RETURN_IF_ERROR(unaryBackward(in, out, gradOut, gradIn, ctx, [lo, hi](float x, float, float gy) {
      return x >= lo && x <= hi && lo <= hi ? gy : 0.f;
    }));
    // Bound gradients: which bound produced each clipped output.
    for (size_t k = 1; k < 3 && k < gradIn.size(); ++k) {
      if (!gradIn[k] || k >= in.size() || !in[k]) continue;
      const float* x = in[0]->f();
      const float* gy = gradOut[0]->f();
      double s = 0;
      for (int64_t i = 0; i < in[0]->numel(); ++i) {
        bool byHi = x[i] > hi || lo > hi;
        bool byLo = !byHi && x[i] < lo;
        if (k == 1 ? byLo : byHi) s += gy[i];
      }
      gradIn[k]->resize(DType::Float, in[k]->shape());
      gradIn[k]->f()[0] = static_cast<float>(s);
    }
    return Status::ok();
  }
  // Two comparisons per element.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 2.0); }

 private:
  float lo_, hi_;
  bool inputs_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createClip(const Node& node, int opset) {
  if (opset >= 11) return make<Clip>(0.f, 0.f, true);
  float lo = node.attrFloat("min", std::numeric_limits<float>::lowest());
  float hi = node.attrFloat("max", std::numeric_limits<float>::max());
  return make<Clip>(lo, hi, false);
}

}  // namespace topiary::ops
