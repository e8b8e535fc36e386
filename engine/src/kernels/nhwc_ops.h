// Per-channel sums and scaling of one channels-last image [P, C] (C a
// multiple of 16), for the squeeze-excite and pooling kernels inside a
// channels-last region (optimize/channels_last.h): every pixel is a row of
// C values, so both are whole-vector passes over the image.
#pragma once

#include <cstdint>

#include "kernels/vec.h"

namespace topiary::kernels {

// s[c] = sum over pixels of x[p * C + c].
inline void pixelSums(const float* x, int64_t P, int64_t C, float* s) {
  for (int64_t c0 = 0; c0 < C; c0 += 16) {
    v16 a0{}, a1{};  // two chains: one add per pixel would wait on the previous one
    int64_t p = 0;
    for (; p + 2 <= P; p += 2) {
      a0 += load16(x + p * C + c0);
      a1 += load16(x + (p + 1) * C + c0);
    }
    if (p < P) a0 += load16(x + p * C + c0);
    store16(s + c0, a0 + a1);
  }
}

// y[p * C + c] = x[p * C + c] * g[c] (y may be x).
inline void scalePixels(const float* x, int64_t P, int64_t C, const float* g, float* y) {
  for (int64_t c0 = 0; c0 < C; c0 += 16) {
    const v16 gv = load16(g + c0);
    for (int64_t p = 0; p < P; ++p) store16(y + p * C + c0, load16(x + p * C + c0) * gv);
  }
}

}  // namespace topiary::kernels
