// Activations a Conv or Gemm can apply to its output in the same pass (the
// inference optimiser fuses them; see optimize/inference_optimizer.cpp).
// The fused node carries the activation as internal attributes:
//   topiary.act = "Relu" | "LeakyRelu" | "Clip" | "HardSigmoid" | "HardSwish"
//   topiary.act_alpha, topiary.act_beta (floats; meaning per activation).
#pragma once

#include <cstdint>
#include <string>

#include "kernels/vec.h"
#include "topiary/graph.h"
#include "topiary/status.h"

namespace topiary::kernels {

struct Activation {
  enum class Kind { None, Relu, LeakyRelu, Clip, HardSigmoid, HardSwish };
  Kind kind = Kind::None;
  float alpha = 0, beta = 0;  // LeakyRelu: alpha; Clip: [alpha, beta]; HardSigmoid: alpha*x+beta

  bool none() const { return kind == Kind::None; }
  // In place on p[0..n).
  void apply(float* p, int64_t n) const;
  // out = act(out + bias) on one row of n values.
  void applyWithBias(float* p, int64_t n, float bias) const;
  // out = act(out + bias + r) on n values, in one pass.
  void applyWithResidual(float* p, const float* r, int64_t n, float bias = 0.f) const;
  // Reads the topiary.act* attributes of a node (None when absent); another
  // prefix names a second activation on the same node (prefix, prefix_alpha,
  // prefix_beta; the fused squeeze-excite carries two).
  static Status fromNode(const Node& node, Activation& out, const std::string& prefix = "topiary.act");
  // Writes them (used by the optimiser).
  void toNode(Node& node, const std::string& prefix = "topiary.act") const;
  // Name as in the attribute ("" for None).
  std::string name() const;
};

// The activation on 16 values in registers, for kernels that apply it
// while storing their output instead of in a pass over memory after it.
// Same formulas and NaN behaviour as apply().
template <Activation::Kind K>
inline v16 activate16(const Activation& a, v16 x) {
  using Kind = Activation::Kind;
  if constexpr (K == Kind::Relu) {
    return x > 0.f ? x : v16{};
  } else if constexpr (K == Kind::LeakyRelu) {
    return x >= 0.f ? x : a.alpha * x;
  } else if constexpr (K == Kind::Clip) {
    const v16 lo = x < a.alpha ? v16{} + a.alpha : x;
    return a.beta < lo ? v16{} + a.beta : lo;
  } else if constexpr (K == Kind::HardSigmoid) {
    const v16 t = a.alpha * x + a.beta, lo = t < 0.f ? v16{} : t;
    return 1.f < lo ? v16{} + 1.f : lo;
  } else if constexpr (K == Kind::HardSwish) {
    const v16 t = x * (1.f / 6.f) + 0.5f, lo = t < 0.f ? v16{} : t;
    return x * (1.f < lo ? v16{} + 1.f : lo);
  } else {
    (void)a;
    return x;
  }
}

// Calls f once with a callable v16 -> v16 that applies `a`, one
// instantiation of f per kind, so a loop inside f carries no switch per
// vector (activate16 below is an indirect jump per 16 outputs).
template <class F>
inline void withActivation16(const Activation& a, F&& f) {
  using Kind = Activation::Kind;
  switch (a.kind) {
    case Kind::None:
      return f([&a](v16 x) { return activate16<Kind::None>(a, x); });
    case Kind::Relu:
      return f([&a](v16 x) { return activate16<Kind::Relu>(a, x); });
    case Kind::LeakyRelu:
      return f([&a](v16 x) { return activate16<Kind::LeakyRelu>(a, x); });
    case Kind::Clip:
      return f([&a](v16 x) { return activate16<Kind::Clip>(a, x); });
    case Kind::HardSigmoid:
      return f([&a](v16 x) { return activate16<Kind::HardSigmoid>(a, x); });
    case Kind::HardSwish:
      return f([&a](v16 x) { return activate16<Kind::HardSwish>(a, x); });
  }
}

inline v16 activate16(const Activation& a, v16 x) {
  v16 out = x;
  withActivation16(a, [&](auto act) { out = act(x); });
  return out;
}

// y[0, count) = act(acc[j]) vector by vector, the last vector masked when it
// is partial (16 * (NV - 1) < count <= 16 * NV); act is a withActivation16
// callable. The sparse kernels' store of the sums they hold in registers.
template <int NV, class Act>
[[gnu::always_inline]] inline void storeActivated(float* y, const v16 (&acc)[NV], int64_t count, const Act& act) {
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    const v16 v = act(acc[j]);
    if (16 * j + 16 <= count)
      store16(y + 16 * j, v);
    else
      storePrefix(y + 16 * j, v, count - 16 * j);
  }
}

}  // namespace topiary::kernels
