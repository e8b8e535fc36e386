#include "kernels/sparse_window.h"

#include <algorithm>
#include <numeric>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace topiary::kernels {

SparseWindowPlan SparseWindowPlan::build(const float* w, int64_t N, int64_t K) {
  SparseWindowPlan p;
  p.N = N;
  p.K = K;
  p.blocks = (N + 15) / 16;
  const int64_t windows = (K + kWindow - 1) / kWindow;
  std::vector<int64_t> count(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n)
    count[static_cast<size_t>(n)] = std::count_if(w + n * K, w + (n + 1) * K, [](float v) { return v != 0.f; });
  p.output.resize(static_cast<size_t>(N));
  std::iota(p.output.begin(), p.output.end(), 0);
  std::stable_sort(p.output.begin(), p.output.end(),
                   [&](int32_t x, int32_t y) { return count[static_cast<size_t>(x)] > count[static_cast<size_t>(y)]; });
  p.tileStart.push_back(0);
  p.slotStart.push_back(0);
  for (int64_t b = 0; b < p.blocks; ++b) {
    const int64_t lanes = std::min<int64_t>(16, N - b * 16);
    for (int64_t win = 0; win < windows; ++win) {
      const int64_t k0 = win * kWindow, k1 = std::min(K, k0 + kWindow);
      int64_t fullest = 0;
      for (int64_t lane = 0; lane < lanes; ++lane) {
        const float* row = w + static_cast<int64_t>(p.output[static_cast<size_t>(b * 16 + lane)]) * K;
        fullest = std::max<int64_t>(fullest, std::count_if(row + k0, row + k1, [](float v) { return v != 0.f; }));
      }
      if (fullest == 0) continue;
      const int64_t first = p.slotCount();
      p.values.resize(static_cast<size_t>((first + fullest) * 16), 0.f);
      p.offsets.resize(static_cast<size_t>((first + fullest) * 16), 0);
      for (int64_t lane = 0; lane < lanes; ++lane) {
        const float* row = w + static_cast<int64_t>(p.output[static_cast<size_t>(b * 16 + lane)]) * K;
        int64_t s = first;
        for (int64_t k = k0; k < k1; ++k) {
          if (row[k] == 0.f) continue;
          p.values[static_cast<size_t>(s * 16 + lane)] = row[k];
          p.offsets[static_cast<size_t>(s * 16 + lane)] = static_cast<uint8_t>(k - k0);
          ++s;
        }
      }
      p.tileWindow.push_back(static_cast<int32_t>(win));
      p.slotStart.push_back(first + fullest);
    }
    p.tileStart.push_back(static_cast<int64_t>(p.tileWindow.size()));
  }
  return p;
}

void SparseWindowPlan::runScalar(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0,
                                 int64_t b1) const {
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t lanes = std::min<int64_t>(16, N - b * 16);
    for (int64_t m = 0; m < M; ++m) {
      float acc[16] = {};
      for (int64_t t = tileStart[static_cast<size_t>(b)]; t < tileStart[static_cast<size_t>(b + 1)]; ++t) {
        const int64_t k0 = static_cast<int64_t>(tileWindow[static_cast<size_t>(t)]) * kWindow;
        for (int64_t s = slotStart[static_cast<size_t>(t)]; s < slotStart[static_cast<size_t>(t + 1)]; ++s)
          for (int64_t lane = 0; lane < lanes; ++lane) {
            const float v = values[static_cast<size_t>(s * 16 + lane)];
            // A padding slot (value 0) may name an offset past K in the last window.
            if (v != 0.f) acc[lane] += v * a[m * lda + k0 + offsets[static_cast<size_t>(s * 16 + lane)]];
          }
      }
      for (int64_t lane = 0; lane < lanes; ++lane) y[m * ldy + output[static_cast<size_t>(b * 16 + lane)]] += acc[lane];
    }
  }
}

#if defined(__AVX512F__)
namespace {

// Rows m .. m+R-1 of A for output block b. C independent chains per row:
// one chain made every slot wait for the multiply-add before it (4 cycles
// on this CPU) where the slot itself issues in about 1.
template <int R>
void rowsOfBlock(const SparseWindowPlan& p, int64_t b, const float* a, int64_t lda, float* y, int64_t ldy) {
  constexpr int C = R == 1 ? 4 : 2;
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  const float* values = p.values.data();
  const uint8_t* offsets = p.offsets.data();
  for (int64_t t = p.tileStart[static_cast<size_t>(b)]; t < p.tileStart[static_cast<size_t>(b + 1)]; ++t) {
    const int64_t k0 = static_cast<int64_t>(p.tileWindow[static_cast<size_t>(t)]) * SparseWindowPlan::kWindow;
    const int64_t rest = p.K - k0;  // the last window may be partial: masked loads, no read past the row
    const __mmask16 lo = static_cast<__mmask16>(rest >= 16 ? 0xffffu : (1u << rest) - 1);
    const __mmask16 hi = static_cast<__mmask16>(rest >= 32 ? 0xffffu : rest > 16 ? (1u << (rest - 16)) - 1 : 0u);
    __m512 x0[R], x1[R];
    for (int r = 0; r < R; ++r) {
      x0[r] = _mm512_maskz_loadu_ps(lo, a + r * lda + k0);
      x1[r] = _mm512_maskz_loadu_ps(hi, a + r * lda + k0 + 16);
    }
    int64_t s = p.slotStart[static_cast<size_t>(t)];
    const int64_t end = p.slotStart[static_cast<size_t>(t + 1)];
    auto slot = [&](int64_t i, int c) {
      const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(offsets + i * 16)));
      const __m512 v = _mm512_loadu_ps(values + i * 16);
      for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(v, _mm512_permutex2var_ps(x0[r], idx, x1[r]), acc[r][c]);
    };
    for (; s + C <= end; s += C)
      for (int c = 0; c < C; ++c) slot(s + c, c);
    // The rest (fewer than C) on separate chains too: a tile has about 7 slots.
    for (int c = 0; c < C - 1; ++c)
      if (s + c < end) slot(s + c, c);
  }
  const int64_t lanes = std::min<int64_t>(16, p.N - b * 16);
  const int32_t* output = p.output.data() + b * 16;
  for (int r = 0; r < R; ++r) {
    __m512 sum = acc[r][0];
    for (int c = 1; c < C; ++c) sum = _mm512_add_ps(sum, acc[r][c]);
    alignas(64) float part[16];
    _mm512_store_ps(part, sum);
    for (int64_t lane = 0; lane < lanes; ++lane) y[r * ldy + output[lane]] += part[lane];
  }
}

}  // namespace
#endif

void SparseWindowPlan::run(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0,
                           int64_t b1) const {
#if defined(__AVX512F__)
  for (int64_t b = b0; b < b1; ++b) {
    int64_t m = 0;
    for (; m + 4 <= M; m += 4) rowsOfBlock<4>(*this, b, a + m * lda, lda, y + m * ldy, ldy);
    if (m + 2 <= M) rowsOfBlock<2>(*this, b, a + m * lda, lda, y + m * ldy, ldy), m += 2;
    if (m < M) rowsOfBlock<1>(*this, b, a + m * lda, lda, y + m * ldy, ldy);
  }
#else
  runScalar(a, lda, M, y, ldy, b0, b1);
#endif
}

}  // namespace topiary::kernels
