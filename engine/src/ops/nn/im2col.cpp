#include "ops/nn/im2col.h"

#include <algorithm>

#include "kernels/vec.h"
#include "ops/common.h"

namespace topiary::ops {

namespace {

using kernels::copyShort;
using kernels::copyStride2;
using kernels::zeroShort;

// 2-D (one image plane per channel, no depth): each row of the column
// matrix is built output row by output row as zeros for the padded ends and
// one contiguous copy (stride 1) or strided gather for the valid middle.
void im2col2d(const float* x, int64_t channels, const Window& w, float* col, int threads) {
  const int64_t H = w.in[1], W = w.in[2], Ho = w.out[1], Wo = w.out[2], kH = w.k[1], kW = w.k[2];
  const int64_t sh = w.s[1], sw = w.s[2], dh = w.d[1], dw = w.d[2], ph = w.padBegin[1], pw = w.padBegin[2];
  const int64_t taps = kH * kW, outN = Ho * Wo;
  parallelFor(channels, threads, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xc = x + c * H * W;
      for (int64_t kh = 0; kh < kH; ++kh)
        for (int64_t kw = 0; kw < kW; ++kw) {
          float* row = col + (c * taps + kh * kW + kw) * outN;
          int64_t lo, hi;  // valid output columns for this tap
          validOutputs(Wo, W, sw, pw, kw * dw, lo, hi);
          for (int64_t oh = 0; oh < Ho; ++oh) {
            float* dst = row + oh * Wo;
            const int64_t ih = oh * sh - ph + kh * dh;
            if (ih < 0 || ih >= H) {
              zeroShort(dst, Wo);
              continue;
            }
            zeroShort(dst, lo);
            const float* src = xc + ih * W - pw + kw * dw;
            if (sw == 1)
              copyShort(src + lo, dst + lo, hi - lo);
            else if (sw == 2)
              copyStride2(src + lo * 2, dst + lo, hi - lo);
            else
              for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * sw];
            zeroShort(dst + hi, Wo - hi);
          }
        }
    }
  });
}

}  // namespace

void im2col(const float* x, int64_t channels, const Window& w, float* col, int threads) {
  if (w.k[0] == 1 && w.in[0] == 1 && w.out[0] == 1 && w.padBegin[0] == 0) {
    im2col2d(x, channels, w, col, threads);
    return;
  }
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
