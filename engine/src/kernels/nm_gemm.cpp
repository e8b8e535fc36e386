#include "kernels/nm_gemm.h"

#include <algorithm>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace topiary::kernels {

bool NmGemmPlan::build(const float* w, int64_t N, int64_t K, NmGemmPlan& out) {
  NmGemmPlan p;
  p.N = N;
  p.K = K;
  p.groups = (K + 3) / 4;
  p.blocks = (N + 15) / 16;
  p.values.assign(static_cast<size_t>(p.blocks * p.groups * 32), 0.f);
  p.index.assign(static_cast<size_t>(p.blocks * p.groups * 16), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < p.groups; ++g) {
      const int64_t base = (n / 16) * p.groups + g, lane = n % 16;
      int found = 0;
      for (int64_t j = 0; j < 4 && 4 * g + j < K; ++j) {
        const float v = w[n * K + 4 * g + j];
        if (v == 0.f) continue;
        if (found == 2) return false;
        p.values[static_cast<size_t>((base * 2 + found) * 16 + lane)] = v;
        p.index[static_cast<size_t>(base * 16 + lane)] |= static_cast<uint8_t>(j << (4 * found));
        ++found;
      }
    }
  out = std::move(p);
  return true;
}

void NmGemmPlan::runScalar(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0,
                           int64_t b1) const {
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t lane = 0; lane < 16 && b * 16 + lane < N; ++lane)
      for (int64_t m = 0; m < M; ++m) {
        float s = 0.f;
        for (int64_t g = 0; g < groups; ++g) {
          const int64_t base = b * groups + g;
          const uint8_t ix = index[static_cast<size_t>(base * 16 + lane)];
          for (int j = 0; j < 2; ++j) {
            const float v = values[static_cast<size_t>((base * 2 + j) * 16 + lane)];
            const int64_t k = 4 * g + ((ix >> (4 * j)) & 3);
            if (v != 0.f) s += v * a[m * lda + k];  // an empty slot may point past K
          }
        }
        y[m * ldy + b * 16 + lane] += s;
      }
}

#if defined(__AVX512F__)
namespace {

// Rows m .. m+R-1 of A for one block of 16 outputs: R accumulators over
// every group; per group the offsets are decoded once for the R rows.
template <int R>
void rowsOfBlock(const NmGemmPlan& p, int64_t b, const float* a, int64_t lda, int64_t m, float* y, int64_t ldy) {
  const float* vb = p.values.data() + b * p.groups * 32;
  const uint8_t* ib = p.index.data() + b * p.groups * 16;
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const int64_t full = p.K / 4;
  const float* ar = a + m * lda;
  for (int64_t g = 0; g < p.groups; ++g) {
    const __m512i iv = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ib + g * 16)));
    const __m512i i2 = _mm512_srli_epi32(iv, 4);  // permutexvar reads bits 0-3: bits 2-3 of iv are 0
    const __m512 w1 = _mm512_loadu_ps(vb + g * 32), w2 = _mm512_loadu_ps(vb + g * 32 + 16);
    for (int r = 0; r < R; ++r) {
      __m128 x;
      if (g < full) {
        x = _mm_loadu_ps(ar + r * lda + 4 * g);
      } else {  // last, partial group: no read past the row
        float t[4] = {0.f, 0.f, 0.f, 0.f};
        for (int64_t j = 0; 4 * g + j < p.K; ++j) t[j] = ar[r * lda + 4 * g + j];
        x = _mm_loadu_ps(t);
      }
      const __m512 x4 = _mm512_broadcast_f32x4(x);
      acc[r] = _mm512_fmadd_ps(w1, _mm512_permutexvar_ps(iv, x4), acc[r]);
      acc[r] = _mm512_fmadd_ps(w2, _mm512_permutexvar_ps(i2, x4), acc[r]);
    }
  }
  const int64_t count = std::min<int64_t>(16, p.N - b * 16);
  const __mmask16 mask = static_cast<__mmask16>(count == 16 ? 0xffff : (1u << count) - 1);
  for (int r = 0; r < R; ++r) {
    float* yr = y + (m + r) * ldy + b * 16;
    _mm512_mask_storeu_ps(yr, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yr), acc[r]));
  }
}

}  // namespace
#endif

void NmGemmPlan::run(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0, int64_t b1) const {
#if defined(__AVX512F__)
  for (int64_t b = b0; b < b1; ++b) {
    int64_t m = 0;
    for (; m + 8 <= M; m += 8) rowsOfBlock<8>(*this, b, a, lda, m, y, ldy);
    if (m + 4 <= M) rowsOfBlock<4>(*this, b, a, lda, m, y, ldy), m += 4;
    if (m + 2 <= M) rowsOfBlock<2>(*this, b, a, lda, m, y, ldy), m += 2;
    if (m < M) rowsOfBlock<1>(*this, b, a, lda, m, y, ldy);
  }
#else
  runScalar(a, lda, M, y, ldy, b0, b1);
#endif
}

}  // namespace topiary::kernels
