#include "kernels/nm_gemm.h"

#include <algorithm>

#include "kernels/shared_work.h"
#include "kernels/vec.h"
#include "ops/common.h"

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
  if (K <= 65536) {  // the batched form's inputs k fit 16 bits
    constexpr int S = kSlotOutputs;
    const int64_t outBlocks = (N + S - 1) / S;
    p.slotCount = 2 * p.groups;
    p.slotValues.assign(static_cast<size_t>(outBlocks * p.slotCount * S), 0.f);
    p.slotInputs.assign(static_cast<size_t>(outBlocks * p.slotCount * S), 0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t g = 0; g < p.groups; ++g) {
        const size_t first = static_cast<size_t>(((n / S) * p.slotCount + 2 * g) * S + n % S);
        p.slotInputs[first] = p.slotInputs[first + S] = static_cast<uint16_t>(4 * g);
        int found = 0;
        for (int64_t j = 0; j < 4 && 4 * g + j < K; ++j) {
          const float v = w[n * K + 4 * g + j];
          if (v == 0.f) continue;
          p.slotValues[first + static_cast<size_t>(found * S)] = v;
          p.slotInputs[first + static_cast<size_t>(found * S)] = static_cast<uint16_t>(4 * g + j);
          ++found;
        }
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

namespace {

constexpr int kSlotOutputs = NmGemmPlan::kSlotOutputs;

// The first 64-byte aligned float of buf (align64): the batched form's
// loads all have the same offset.
float* aligned(std::vector<float>& buf) { return align64(buf.data()); }

// Rows m0 .. m0 + 16 RV - 1 of Y, outputs [n0, n1) (n0 a multiple of 16),
// by the batched form (see nm_gemm.h): RV = 4 for the blocks of
// kBatchRows rows, 2 for a last block of 32; `scratch` (64-byte aligned)
// holds p.batchScratchFloats() floats.
template <int RV>
void batchedRows(const NmGemmPlan& p, const float* a, int64_t lda, int64_t m0, float* y, int64_t ldy, int64_t n0,
                 int64_t n1, float* scratch) {
  constexpr int kRowVectors = RV;
  constexpr int64_t kRows = 16 * RV;
  const int64_t K = p.K;
  // at[k][i] = A[m0 + i][k], 16 x 16 blocks through registers.
  float* at = scratch;
  for (int64_t k0 = 0; k0 < K; k0 += 16) {
    const int64_t kn = std::min<int64_t>(16, K - k0);
    for (int q = 0; q < kRowVectors; ++q) {
      v16 t[16];
      for (int i = 0; i < 16; ++i) {
        const float* row = a + (m0 + 16 * q + i) * lda + k0;
        if (kn == 16) {
          t[i] = load16(row);
        } else {
          float part[16] = {};
          std::copy(row, row + kn, part);
          t[i] = load16(part);
        }
      }
      transpose16(t);
      for (int64_t j = 0; j < kn; ++j) store16(at + (k0 + j) * kRows + 16 * q, t[j]);
    }
  }
  // yt[n - n0][i]: kSlotOutputs outputs x 4 vectors of rows in registers.
  const int64_t ob0 = n0 / kSlotOutputs, ob1 = (n1 + kSlotOutputs - 1) / kSlotOutputs;
  float* yt = at + (K + 15) / 16 * 16 * kRows;
  for (int64_t ob = ob0; ob < ob1; ++ob) {
    v16 acc[kSlotOutputs][kRowVectors];
    for (auto& o : acc)
      for (auto& v : o) v = v16{};
    const float* w = p.slotValues.data() + ob * p.slotCount * kSlotOutputs;
    const uint16_t* in = p.slotInputs.data() + ob * p.slotCount * kSlotOutputs;
    for (int64_t s = 0; s < p.slotCount; ++s, w += kSlotOutputs, in += kSlotOutputs)
      for (int o = 0; o < kSlotOutputs; ++o) {
        const float* r = at + static_cast<int64_t>(in[o]) * kRows;
        for (int q = 0; q < kRowVectors; ++q) acc[o][q] += w[o] * load16(r + 16 * q);
      }
    float* dst = yt + (ob - ob0) * kSlotOutputs * kRows;
    for (int o = 0; o < kSlotOutputs; ++o)
      for (int q = 0; q < kRowVectors; ++q) store16(dst + o * kRows + 16 * q, acc[o][q]);
  }
  // Y[m0 + i][n] += yt[n - n0][i], 16 outputs x 16 rows at a time.
  for (int64_t nb = n0; nb < n1; nb += 16) {
    const int64_t nn = std::min<int64_t>(16, n1 - nb);
    for (int q = 0; q < kRowVectors; ++q) {
      v16 t[16];
      for (int i = 0; i < 16; ++i) t[i] = i < nn ? load16(yt + (nb - n0 + i) * kRows + 16 * q) : v16{};
      transpose16(t);
      for (int i = 0; i < 16; ++i) {
        float* yr = y + (m0 + 16 * q + i) * ldy + nb;
        if (nn == 16) {
          store16(yr, load16(yr) + t[i]);
        } else {
          float sum[16];
          store16(sum, t[i]);
          for (int64_t j = 0; j < nn; ++j) yr[j] += sum[j];
        }
      }
    }
  }
}

}  // namespace

#if defined(__AVX512F__)
namespace {

// Rows m .. m+R-1 of A for one block of 16 outputs: R accumulators over
// every group; per group the offsets are decoded once for the R rows.
template <int R>
void rowsOfBlock(const NmGemmPlan& p, int64_t b, const float* a, int64_t lda, int64_t m, float* y, int64_t ldy) {
  const float* vb = p.values.data() + b * p.groups * 32;
  const uint8_t* ib = p.index.data() + b * p.groups * 16;
  // With 1 or 2 rows, two accumulators per row (first and second nonzero),
  // and with one row two more for odd groups: a single chain per row made
  // each group wait for the FMA latency of the one before (a matrix-vector
  // product 1.5x slower).
  __m512 acc[R], acc2[R], odd[R], odd2[R];
  for (int r = 0; r < R; ++r) acc[r] = acc2[r] = odd[r] = odd2[r] = _mm512_setzero_ps();
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
      if (R == 1 && (g & 1)) {
        odd[r] = _mm512_fmadd_ps(w1, _mm512_permutexvar_ps(iv, x4), odd[r]);
        odd2[r] = _mm512_fmadd_ps(w2, _mm512_permutexvar_ps(i2, x4), odd2[r]);
      } else {
        acc[r] = _mm512_fmadd_ps(w1, _mm512_permutexvar_ps(iv, x4), acc[r]);
        __m512& second = R <= 2 ? acc2[r] : acc[r];  // 4 and 8 rows: enough chains, and fewer registers
        second = _mm512_fmadd_ps(w2, _mm512_permutexvar_ps(i2, x4), second);
      }
    }
  }
  for (int r = 0; r < R; ++r) acc[r] = _mm512_add_ps(_mm512_add_ps(acc[r], acc2[r]), _mm512_add_ps(odd[r], odd2[r]));
  const int64_t count = std::min<int64_t>(16, p.N - b * 16);
  const __mmask16 mask = static_cast<__mmask16>(count == 16 ? 0xffff : (1u << count) - 1);
  for (int r = 0; r < R; ++r) {
    float* yr = y + (m + r) * ldy + b * 16;
    _mm512_mask_storeu_ps(yr, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yr), acc[r]));
  }
}

}  // namespace
#endif

int64_t NmGemmPlan::batchScratchFloats() const {
  return ((K + 15) / 16 * 16 + (N + kSlotOutputs - 1) / kSlotOutputs * kSlotOutputs) * kBatchRows;
}

void NmGemmPlan::runAll(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int threads) const {
  // Blocks of kBatchRows rows, then one of 32 when at least 32 rows remain.
  const int64_t rowBlocks = slotInputs.empty() ? 0 : M / kBatchRows;
  const bool half = !slotInputs.empty() && M - rowBlocks * kBatchRows >= kBatchRows / 2;
  const int64_t pieces = rowBlocks + (half ? 1 : 0), done = rowBlocks * kBatchRows + (half ? kBatchRows / 2 : 0);
  if (pieces > 0) {
    // Scratch per slot of runPieces, sized here on the calling thread: which
    // thread runs which block varies from run to run, so a per-thread buffer
    // grown inside a piece could allocate in any later run.
    const int slots = static_cast<int>(std::clamp<int64_t>(threads, 1, pieces));
    const size_t floats = static_cast<size_t>(batchScratchFloats() + 16);
    if (static_cast<int>(scratch_.size()) < slots) scratch_.resize(static_cast<size_t>(slots));
    for (int i = 0; i < slots; ++i)
      if (scratch_[static_cast<size_t>(i)].size() < floats) scratch_[static_cast<size_t>(i)].resize(floats);
    runPieces(pieces, slots, [&](int64_t i, int slot) {
      float* scratch = aligned(scratch_[static_cast<size_t>(slot)]);
      if (i < rowBlocks)
        batchedRows<4>(*this, a, lda, i * kBatchRows, y, ldy, 0, N, scratch);
      else
        batchedRows<2>(*this, a, lda, i * kBatchRows, y, ldy, 0, N, scratch);
    });
  }
  if (done < M)
    ops::parallelFor(blocks, threads,
                     [&](int64_t b0, int64_t b1) { run(a + done * lda, lda, M - done, y + done * ldy, ldy, b0, b1); });
}

void NmGemmPlan::run(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0, int64_t b1) const {
  const int64_t n0 = b0 * 16, n1 = std::min(N, b1 * 16);
  int64_t m0 = 0;
  if (!slotInputs.empty() && n0 < n1 && M >= kBatchRows / 2) {
    std::vector<float> scratch(static_cast<size_t>(batchScratchFloats() + 16));
    for (; m0 + kBatchRows <= M; m0 += kBatchRows) batchedRows<4>(*this, a, lda, m0, y, ldy, n0, n1, aligned(scratch));
    if (m0 + kBatchRows / 2 <= M)
      batchedRows<2>(*this, a, lda, m0, y, ldy, n0, n1, aligned(scratch)), m0 += kBatchRows / 2;
  }
  if (m0 == M) return;
#if defined(__AVX512F__)
  for (int64_t b = b0; b < b1; ++b) {
    int64_t m = m0;
    for (; m + 8 <= M; m += 8) rowsOfBlock<8>(*this, b, a, lda, m, y, ldy);
    if (m + 4 <= M) rowsOfBlock<4>(*this, b, a, lda, m, y, ldy), m += 4;
    if (m + 2 <= M) rowsOfBlock<2>(*this, b, a, lda, m, y, ldy), m += 2;
    if (m < M) rowsOfBlock<1>(*this, b, a, lda, m, y, ldy);
  }
#else
  runScalar(a + m0 * lda, lda, M - m0, y + m0 * ldy, ldy, b0, b1);
#endif
}

}  // namespace topiary::kernels
