// A 16-float vector type (GCC/Clang vector extension: one AVX-512 register,
// two AVX or four SSE ones, so code using it stays portable) and short
// copy/fill helpers: at a few dozen floats a call to memmove/memset costs
// more than the move itself.
#pragma once

#include <cstdint>
#include <cstring>

namespace topiary::kernels {

typedef float v16 __attribute__((vector_size(64)));

inline v16 load16(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }

inline void copyShort(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) store16(dst + i, load16(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

inline void zeroShort(float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) store16(dst + i, v16{});
  for (; i < n; ++i) dst[i] = 0.f;
}

}  // namespace topiary::kernels
