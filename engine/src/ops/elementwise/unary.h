// Loops shared by the float32 unary operators (activations, Exp, Sqrt...):
// each operator's file supplies only its formula and its derivative.
#pragma once

#include <string>

#include "ops/common.h"
#include "ops/elementwise/dispatch.h"

namespace topiary::ops {

// y = f(x) elementwise over in[0].
template <class F>
Status unaryForward(const char* op, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                    const RunContext& ctx, F f, int64_t grain = 1 << 14) {
  TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, op));
  TOPIARY_RETURN_IF_ERROR(expectFloat(*in[0], op));
  out[0]->resize(DType::Float, in[0]->shape());
  const float* x = in[0]->f();
  float* y = out[0]->f();
  parallelFor(
      in[0]->numel(), ctx.threads,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) y[i] = f(x[i]);
      },
      grain);
  return Status::ok();
}

// y = f(x) for any numeric type (f is a generic lambda); y has x's type.
template <class F>
Status unaryForwardNumeric(const char* op, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                           const RunContext& ctx, F f, int64_t grain = 1 << 14) {
  TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, op));
  const Tensor& X = *in[0];
  out[0]->resize(X.dtype(), X.shape());
  Tensor& Y = *out[0];
  bool ok = visitNumeric(X.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = X.data<T>();
    T* y = Y.data<T>();
    parallelFor(
        X.numel(), ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) y[i] = static_cast<T>(f(x[i]));
        },
        grain);
  });
  if (!ok) return Status::unsupported(std::string(op) + " on " + dtypeName(X.dtype()) + " tensors is not supported");
  return Status::ok();
}

// y = pred(x) as bool for a floating-point x (float32 or float64; pred is
// a generic lambda). Unsupported for other types.
template <class Pred>
Status unaryPredicateFloating(const char* op, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                              const RunContext& ctx, Pred pred) {
  TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, op));
  const Tensor& X = *in[0];
  out[0]->resize(DType::Bool, X.shape());
  uint8_t* y = out[0]->data<uint8_t>();
  auto body = [&](auto tag) {
    using T = decltype(tag);
    const T* x = X.data<T>();
    parallelFor(
        X.numel(), ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) y[i] = pred(x[i]) ? 1 : 0;
        },
        1 << 14);
  };
  if (X.dtype() == DType::Float)
    body(float{});
  else if (X.dtype() == DType::Double)
    body(double{});
  else
    return Status::unsupported(std::string(op) + " on " + dtypeName(X.dtype()) + " tensors is not supported");
  return Status::ok();
}

// gx = g(x, y, gy) elementwise, where y is the forward output.
template <class G>
Status unaryBackward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                     const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                     const RunContext& ctx, G g, int64_t grain = 1 << 14) {
  if (gradIn.empty() || !gradIn[0] || gradOut.empty() || !gradOut[0]) return Status::ok();
  if (!in[0] || !out[0] || out[0]->numel() != in[0]->numel() || gradOut[0]->numel() != in[0]->numel())
    return Status::internal("backward called with tensors that do not match the forward pass");
  gradIn[0]->resize(DType::Float, in[0]->shape());
  const float* x = in[0]->f();
  const float* y = out[0]->f();
  const float* gy = gradOut[0]->f();
  float* gx = gradIn[0]->f();
  parallelFor(
      in[0]->numel(), ctx.threads,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) gx[i] = g(x[i], y[i], gy[i]);
      },
      grain);
  return Status::ok();
}

// FLOPs of a unary operator costing `perElement` per output element.
inline double unaryFlops(const std::vector<Shape>& in, double perElement) {
  return in.empty() ? 0.0 : perElement * static_cast<double>(numelOf(in[0]));
}

// A stateless float32 unary operator given by its formula f(x), its
// derivative g(x, y, gy) -> gx and its cost per element: the whole kernel of
// Exp, Sqrt, Sigmoid, Floor... (operators with attributes keep a class).
template <class F, class G, bool Numeric>
class UnaryFormula final : public Kernel {
 public:
  UnaryFormula(const char* op, double cost, F f, G g) : op_(op), cost_(cost), f_(f), g_(g) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    if constexpr (Numeric)
      return unaryForwardNumeric(op_, in, out, ctx, f_);
    else
      return unaryForward(op_, in, out, ctx, f_);
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    return unaryBackward(in, out, gradOut, gradIn, ctx, g_);
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, cost_); }

 private:
  const char* op_;
  double cost_;
  F f_;
  G g_;
};

// Float32 only: f takes and returns a float.
template <class F, class G>
Result<std::unique_ptr<Kernel>> makeUnary(const char* op, double cost, F f, G g) {
  return make<UnaryFormula<F, G, false>>(op, cost, f, g);
}

// Every numeric type: f is a generic lambda; y has x's type. The derivative
// (training) is float32.
template <class F, class G>
Result<std::unique_ptr<Kernel>> makeUnaryNumeric(const char* op, double cost, F f, G g) {
  return make<UnaryFormula<F, G, true>>(op, cost, f, g);
}

// Costs used for FLOP counts: simple arithmetic is 1 per element; a
// transcendental function (exp, log, tanh, erf, pow) is counted as 4, a
// rough figure for a vectorised polynomial approximation.
constexpr double kTranscendentalFlops = 4.0;

}  // namespace topiary::ops
