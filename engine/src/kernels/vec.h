// A 16-float vector type (GCC/Clang vector extension: one AVX-512 register,
// two AVX or four SSE ones, so code using it stays portable) and short
// copy/fill helpers: at a few dozen floats a call to memmove/memset costs
// more than the move itself.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

// Without AVX-512 enabled (TOPIARY_NATIVE=OFF) GCC notes that passing v16 by
// value has a different ABI than with it; these helpers are inline and
// internal to the engine, built with one set of flags, so the note does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace topiary::kernels {

typedef float v16 __attribute__((vector_size(64)));

inline v16 load16(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }
// Every lane x: one broadcast. Not v16{} + x: adding zero is not an identity
// for -0.f, so the compiler keeps the add (one more instruction in the
// sparse kernels' and the packed Gemm's inner loops).
inline v16 broadcast16(float x) {
  v16 v = {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
  return v;
}

// The first 64-byte aligned float at or after p (a buffer given 15 spare
// floats): a vector load that crosses a cache line costs about twice one
// that does not.
inline float* align64(float* p) { return p + (16 - reinterpret_cast<uintptr_t>(p) / sizeof(float) % 16) % 16; }

typedef int32_t i16x __attribute__((vector_size(64)));

// v with lanes n..15 cleared (bitwise, so a NaN there is cleared too).
inline v16 keepFirst(v16 v, int64_t n) {
  const i16x iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const i16x keep = iota < static_cast<int32_t>(n);
  return (v16)((i16x)v & keep);
}

// Even and odd lanes of the 32 floats a, b.
inline void deinterleave(v16 a, v16 b, v16& even, v16& odd) {
#if defined(__clang__)
  even = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  odd = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
#else
  typedef int32_t i16 __attribute__((vector_size(64)));
  even = __builtin_shuffle(a, b, i16{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30});
  odd = __builtin_shuffle(a, b, i16{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31});
#endif
}

// lo = a0 b0 a1 b1 .. a7 b7, hi = a8 b8 .. a15 b15 (the inverse of deinterleave).
inline void interleave(v16 a, v16 b, v16& lo, v16& hi) {
#if defined(__clang__)
  lo = __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  hi = __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
#else
  typedef int32_t i16 __attribute__((vector_size(64)));
  lo = __builtin_shuffle(a, b, i16{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23});
  hi = __builtin_shuffle(a, b, i16{8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31});
#endif
}

// Transposes the 16x16 block whose rows are r[0..15], in place: four
// stages, each swapping the off-diagonal s x s blocks (s = 8, 4, 2, 1) of
// every 2s x 2s block with one two-source shuffle per row.
// Lane lists of the four stages of transpose16 (below).
#define TOPIARY_LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define TOPIARY_HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define TOPIARY_LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define TOPIARY_HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define TOPIARY_LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define TOPIARY_HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define TOPIARY_LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define TOPIARY_HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
inline void transpose16(v16 r[16]) {
#if defined(__clang__)
#define TOPIARY_SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
  typedef int32_t i16 __attribute__((vector_size(64)));
#define TOPIARY_SHUF(a, b, ...) __builtin_shuffle(a, b, i16{__VA_ARGS__})
#endif
  // Stage s: row i (bit s clear) takes lanes with bit s clear from itself and
  // from row i+s (shifted down by s); row i+s takes the lanes with bit s set.
#define TOPIARY_STAGE(S, LO, HI)                                   \
  for (int i = 0; i < 16; ++i)                                     \
    if (!(i & S)) {                                                \
      const v16 a = r[i], b = r[i + S];                            \
      r[i] = TOPIARY_SHUF(a, b, LO);                               \
      r[i + S] = TOPIARY_SHUF(a, b, HI);                           \
    }
  TOPIARY_STAGE(8, TOPIARY_LO8, TOPIARY_HI8)
  TOPIARY_STAGE(4, TOPIARY_LO4, TOPIARY_HI4)
  TOPIARY_STAGE(2, TOPIARY_LO2, TOPIARY_HI2)
  TOPIARY_STAGE(1, TOPIARY_LO1, TOPIARY_HI1)
#undef TOPIARY_STAGE
#undef TOPIARY_SHUF
}
#undef TOPIARY_LO8
#undef TOPIARY_HI8
#undef TOPIARY_LO4
#undef TOPIARY_HI4
#undef TOPIARY_LO2
#undef TOPIARY_HI2
#undef TOPIARY_LO1
#undef TOPIARY_HI1

// p[0..n) = the first n lanes of v (0 <= n <= 16); nothing past p[n - 1] is
// written. One masked store with AVX-512 (a row's last part of a vector
// went through a stack copy and a scalar loop: a fifth of the 14x14 sparse
// direct convolution's copy-out).
inline void storePrefix(float* p, v16 v, int64_t n) {
#if defined(__AVX512F__)
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), reinterpret_cast<__m512&>(v));
#else
  float part[16];
  store16(part, v);
  for (int64_t i = 0; i < n; ++i) p[i] = part[i];
#endif
}

// dst[i] = src[2 i] for i < n: reads nothing past src[2 (n - 1)] and writes
// nothing past dst[n - 1]. With AVX-512, 16 outputs per step: two masked
// loads, one two-source permute keeping the even lanes, one masked store (a
// scalar loop here took half of a 1x1 stride-2 projection's time at 90%
// sparsity). Used by im2col and by the direct kernels' phase planes.
inline void copyStride2(const float* src, float* dst, int64_t n) {
#if defined(__AVX512F__)
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t m = n - i < 16 ? n - i : 16, need = 2 * m - 1;  // outputs, inputs read
    const __mmask16 lo = static_cast<__mmask16>(need >= 16 ? 0xffffu : (1u << need) - 1);
    const __mmask16 hi = static_cast<__mmask16>(need > 16 ? (1u << (need - 16)) - 1 : 0u);
    const __m512 a = _mm512_maskz_loadu_ps(lo, src + 2 * i), b = _mm512_maskz_loadu_ps(hi, src + 2 * i + 16);
    _mm512_mask_storeu_ps(dst + i, static_cast<__mmask16>(m == 16 ? 0xffffu : (1u << m) - 1),
                          _mm512_permutex2var_ps(a, even, b));
  }
#else
  int64_t i = 0;
  for (; i + 16 < n; i += 16) {  // whole vectors while src[2 i + 31] <= src[2 (n - 1)]
    v16 e, o;
    deinterleave(load16(src + 2 * i), load16(src + 2 * i + 16), e, o);
    store16(dst + i, e);
  }
  for (; i < n; ++i) dst[i] = src[2 * i];
#endif
}

// The first n floats at p (0 <= n <= 16), the other lanes zero; nothing
// past p[n - 1] is read. One masked load with AVX-512.
inline v16 loadPrefix(const float* p, int64_t n) {
#if defined(__AVX512F__)
  const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  return reinterpret_cast<const v16&>(v);
#else
  float part[16] = {};
  for (int64_t i = 0; i < n; ++i) part[i] = p[i];
  return load16(part);
#endif
}

// dst[0..n) = src[0..n): whole vectors, then one masked load and store
// (a row's last part of a vector went through a scalar loop or a stack copy).
inline void copyShort(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) store16(dst + i, load16(src + i));
  if (i < n) storePrefix(dst + i, loadPrefix(src + i, n - i), n - i);
}

inline void zeroShort(float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) store16(dst + i, v16{});
  for (; i < n; ++i) dst[i] = 0.f;
}

}  // namespace topiary::kernels
