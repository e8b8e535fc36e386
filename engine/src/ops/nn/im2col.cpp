#include "ops/nn/im2col.h"

#include <algorithm>

#include "ops/common.h"

namespace topiary::ops {

void im2col(const float* x, int64_t channels, const Window& w, float* col, int threads) {
  const int64_t taps = w.kSize(), outN = w.outSize(), inN = w.inSize();
  parallelFor(channels, threads, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xc = x + c * inN;
      int64_t t = 0;
      for (int64_t kd = 0; kd < w.k[0]; ++kd)
        for (int64_t kh = 0; kh < w.k[1]; ++kh)
          for (int64_t kw = 0; kw < w.k[2]; ++kw, ++t) {
            float* row = col + (c * taps + t) * outN;
            std::fill(row, row + outN, 0.f);
            forEachTap(w, kd, kh, kw, [&](int64_t o, int64_t i) { row[o] = xc[i]; });
          }
    }
  });
}

void col2imAdd(const float* col, int64_t channels, const Window& w, float* x, int threads) {
  const int64_t taps = w.kSize(), outN = w.outSize(), inN = w.inSize();
  // Each channel writes only its own plane, so channels run in parallel safely.
  parallelFor(channels, threads, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* xc = x + c * inN;
      int64_t t = 0;
      for (int64_t kd = 0; kd < w.k[0]; ++kd)
        for (int64_t kh = 0; kh < w.k[1]; ++kh)
          for (int64_t kw = 0; kw < w.k[2]; ++kw, ++t) {
            const float* row = col + (c * taps + t) * outN;
            forEachTap(w, kd, kh, kw, [&](int64_t o, int64_t i) { xc[i] += row[o]; });
          }
    }
  });
}

}  // namespace topiary::ops
