#include "ops/nn/conv_depthwise.h"

#include <algorithm>

#include "ops/common.h"

namespace topiary::ops {

// Output channel co reads input channel co / mult (mult = Cout / group).
void depthwiseForwardNd(const DepthwiseShape& shape, const float* x, const float* w, const float* b, float* y,
                        const kernels::Activation& act, int threads) {
  const Window& win = shape.win;
  const int64_t N = shape.N, Cin = shape.Cin, Cout = shape.Cout, group = shape.group;
  const int64_t P = win.outSize(), inN = win.inSize(), taps = win.kSize(), mult = Cout / group;
  parallelFor(N * Cout, threads, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      int64_t n = i / Cout, co = i % Cout;
      const float* xc = x + (n * Cin + co / mult) * inN;
      const float* wc = w + co * taps;
      float* yc = y + i * P;
      std::fill(yc, yc + P, b ? b[co] : 0.f);
      int64_t t = 0;
      for (int64_t kd = 0; kd < win.k[0]; ++kd)
        for (int64_t kh = 0; kh < win.k[1]; ++kh)
          for (int64_t kw = 0; kw < win.k[2]; ++kw, ++t) {
            const float wv = wc[t];
            forEachTap(win, kd, kh, kw, [&](int64_t o, int64_t s) { yc[o] += wv * xc[s]; });
          }
      if (!act.none()) act.apply(yc, P);
    }
  });
}

void depthwiseBackwardNd(const DepthwiseShape& shape, const float* x, const float* w, const float* gy, float* gx,
                         float* gw, int threads) {
  const Window& win = shape.win;
  const int64_t N = shape.N, Cin = shape.Cin, Cout = shape.Cout, group = shape.group;
  const int64_t P = win.outSize(), inN = win.inSize(), taps = win.kSize(), mult = Cout / group;
  if (gx) {
    // One task per input plane: it gathers from the mult output channels reading it.
    parallelFor(N * Cin, threads, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        int64_t n = i / Cin, ci = i % Cin;
        float* gxc = gx + i * inN;
        for (int64_t co = ci * mult; co < (ci + 1) * mult; ++co) {
          const float* gyc = gy + (n * Cout + co) * P;
          int64_t t = 0;
          for (int64_t kd = 0; kd < win.k[0]; ++kd)
            for (int64_t kh = 0; kh < win.k[1]; ++kh)
              for (int64_t kw = 0; kw < win.k[2]; ++kw, ++t) {
                const float wv = w[co * taps + t];
                forEachTap(win, kd, kh, kw, [&](int64_t o, int64_t s) { gxc[s] += wv * gyc[o]; });
              }
        }
      }
    });
  }
  if (gw) {
    parallelFor(Cout, threads, [&](int64_t c0, int64_t c1) {
      for (int64_t co = c0; co < c1; ++co) {
        int64_t t = 0;
        for (int64_t kd = 0; kd < win.k[0]; ++kd)
          for (int64_t kh = 0; kh < win.k[1]; ++kh)
            for (int64_t kw = 0; kw < win.k[2]; ++kw, ++t) {
              double s = 0;
              for (int64_t n = 0; n < N; ++n) {
                const float* xc = x + (n * Cin + co / mult) * inN;
                const float* gyc = gy + (n * Cout + co) * P;
                float part = 0;
                forEachTap(win, kd, kh, kw, [&](int64_t o, int64_t i) { part += gyc[o] * xc[i]; });
                s += part;
              }
              gw[co * taps + t] = static_cast<float>(s);
            }
      }
    });
  }
}

}  // namespace topiary::ops
