// Sum of a short contiguous run of floats (one channel plane: 49 values at
// 7x7), for GlobalAveragePool and the fused squeeze-excite. Eigen's
// vectorised sum spends more on its head/tail handling than on the adds at
// these sizes, and it is called once per channel and image.
#pragma once

#include <cstdint>

#include "kernels/vec.h"

namespace topiary::kernels {

inline float planeSum(const float* p, int64_t n) {
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
  if (i < n) {  // the last 1-15 values, never read past p[n - 1]
    float tail[16] = {};
    copyShort(p + i, tail, n - i);
    a1 += load16(tail);
  }
  const v16 s = a0 + a1;
  float total = 0.f;
  for (int k = 0; k < 16; ++k) total += s[k];
  return total;
}

}  // namespace topiary::kernels
