// The plain double-precision 3x3 convolution the Winograd tests compare
// against (test_winograd43, test_winograd43_nm): any padding, optional bias,
// residual and activation (Relu, LeakyRelu).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/activation.h"

namespace wgtest {

using topiary::kernels::Activation;

struct Case {
  int64_t n, cin, H, W, cout, padT, padL, padB, padR;
};

inline std::vector<float> randomValues(size_t count, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(count);
  for (float& f : v) f = u(rng);
  return v;
}

inline double refAct(const Activation& a, double v) {
  if (a.kind == Activation::Kind::Relu) return v > 0 ? v : 0;
  if (a.kind == Activation::Kind::LeakyRelu) return v >= 0 ? v : a.alpha * v;
  return v;
}

// act(conv(x, w) + b + r) in double.
inline std::vector<double> reference(const Case& s, int64_t Ho, int64_t Wo, const std::vector<float>& x,
                                     const std::vector<float>& w, const float* b, const float* r,
                                     const Activation& act) {
  std::vector<double> y(static_cast<size_t>(s.n * s.cout * Ho * Wo));
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t co = 0; co < s.cout; ++co)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const int64_t o = ((n * s.cout + co) * Ho + oh) * Wo + ow;
          double acc = (b ? b[co] : 0.0) + (r ? r[o] : 0.0);
          for (int64_t ci = 0; ci < s.cin; ++ci)
            for (int64_t kh = 0; kh < 3; ++kh)
              for (int64_t kw = 0; kw < 3; ++kw) {
                const int64_t ih = oh - s.padT + kh, iw = ow - s.padL + kw;
                if (ih < 0 || iw < 0 || ih >= s.H || iw >= s.W) continue;
                acc += static_cast<double>(w[static_cast<size_t>(((co * s.cin + ci) * 3 + kh) * 3 + kw)]) *
                       x[static_cast<size_t>(((n * s.cin + ci) * s.H + ih) * s.W + iw)];
              }
          y[static_cast<size_t>(o)] = refAct(act, acc);
        }
  return y;
}

// A Winograd plan (Winograd43Plan, Winograd43NmPlan) for case s with output
// Ho x Wo, initialised and packed with the weights w.
template <class Plan>
Plan packedPlan(const Case& s, int64_t Ho, int64_t Wo, const std::vector<float>& w) {
  Plan pl;
  pl.cin = s.cin;
  pl.cout = s.cout;
  pl.H = s.H;
  pl.W = s.W;
  pl.padT = s.padT;
  pl.padL = s.padL;
  pl.Ho = Ho;
  pl.Wo = Wo;
  pl.init();
  pl.pack(w.data());
  return pl;
}

}  // namespace wgtest
