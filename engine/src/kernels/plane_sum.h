// Sum of a short contiguous run of floats (one channel plane: 49 values at
// 7x7), for GlobalAveragePool and the fused squeeze-excite. Eigen's
// vectorised sum spends more on its head/tail handling than on the adds at
// these sizes, and it is called once per channel and image.
#pragma once

#include <cstdint>

#include "kernels/vec.h"

namespace topiary::kernels {

inline float planeSum(const float* p, int64_t n) {
  if (n < 16) {
    float total = 0.f;
    for (int64_t i = 0; i < n; ++i) total += p[i];
    return total;
  }
  v16 a0{}, a1{};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 += load16(p + i);
    a1 += load16(p + i + 16);
  }
  if (i + 16 <= n) {
    a0 += load16(p + i);
    i += 16;
  }
  if (i < n) {
    // The last 16 values, with the lanes already summed cleared: no scalar
    // tail, and no read past p[n - 1] (n >= 16 here).
    const i16x iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const i16x fresh = iota >= static_cast<int32_t>(16 - (n - i));
    a1 += (v16)((i16x)load16(p + n - 16) & fresh);
  }
  // Pairwise: 4 dependent adds instead of a chain of 16.
  float t[16];
  store16(t, a0 + a1);
  for (int k = 0; k < 8; ++k) t[k] += t[k + 8];
  for (int k = 0; k < 4; ++k) t[k] += t[k + 4];
  return (t[0] + t[2]) + (t[1] + t[3]);
}

}  // namespace topiary::kernels
