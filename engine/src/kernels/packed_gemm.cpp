#include "kernels/packed_gemm.h"

#include <algorithm>
#include <utility>

#include "kernels/vec.h"
#include "ops/common.h"

namespace topiary::kernels {

namespace {

// Rows per tile at most: 2 x kMaxRows accumulators plus the two weight
// vectors fit the 32 AVX-512 registers.
constexpr int kMaxRows = 12;
constexpr int64_t P = PackedGemm::kPanel;

// Outputs rows x 16V at y (row stride ldy) over kc steps of k: starts from
// `init` (rows ldi apart; ldi == 0 repeats one row), adds a (rows lda apart)
// times the packed panel bp (16V floats per k), stores act(sum) or the plain
// sum when act is null.
template <int R, int V>
void tile(int64_t kc, const float* a, int64_t lda, const float* bp, const float* init, int64_t ldi, float* y,
          int64_t ldy, const Activation* act) {
  v16 c[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) c[r][v] = load16(init + r * ldi + 16 * v);
  for (int64_t k = 0; k < kc; ++k) {
    v16 b[V];
    for (int v = 0; v < V; ++v) b[v] = load16(bp + (k * V + v) * 16);
    for (int r = 0; r < R; ++r) {
      const v16 av = broadcast16(a[r * lda + k]);
      for (int v = 0; v < V; ++v) c[r][v] += av * b[v];
    }
  }
  if (act && !act->none())
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v) c[r][v] = activate16(*act, c[r][v]);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store16(y + r * ldy + 16 * v, c[r][v]);
}

using TileFn = void (*)(int64_t, const float*, int64_t, const float*, const float*, int64_t, float*, int64_t,
                        const Activation*);

template <int V, int... R>
TileFn tileFor(int rows, std::integer_sequence<int, R...>) {
  static constexpr TileFn table[] = {tile<R + 1, V>...};
  return table[rows - 1];
}

// The kernel for `rows` rows (1..kMaxRows) and a panel 16 * V wide.
TileFn tileFor(int rows, int V) {
  return V == 2 ? tileFor<2>(rows, std::make_integer_sequence<int, kMaxRows>{})
                : tileFor<1>(rows, std::make_integer_sequence<int, kMaxRows>{});
}

}  // namespace

void PackedGemm::clear() {
  K_ = N_ = panels_ = width_ = lastWidth_ = kBlocks_ = 0;
  packed_.clear();
  packed_.shrink_to_fit();
}

void PackedGemm::pack(const float* b, int64_t K, int64_t N, int64_t ldb, bool transB, float alpha) {
  K_ = K;
  N_ = N;
  panels_ = (N + P - 1) / P;
  // A last panel of at most 16 columns is 16 wide (300 outputs: 304
  // multiply-adds per row and k, not 320).
  lastWidth_ = N - (panels_ - 1) * P <= 16 ? 16 : P;
  width_ = (panels_ - 1) * P + lastWidth_;
  kBlocks_ = std::max<int64_t>(1, (K + kKBlock - 1) / kKBlock);
  packed_.assign(static_cast<size_t>(K * width_), 0.f);
  for (int64_t kb = 0; kb < kBlocks_; ++kb) {
    const int64_t k0 = blockStart(kb), k1 = blockStart(kb + 1);
    float* dst = packed_.data() + k0 * width_;
    for (int64_t p = 0; p < panels_; ++p) {
      const int64_t n0 = p * P, w = p + 1 == panels_ ? lastWidth_ : P, nc = std::min(w, N - n0);
      for (int64_t k = k0; k < k1; ++k, dst += w)
        for (int64_t j = 0; j < nc; ++j) dst[j] = alpha * (transB ? b[(n0 + j) * ldb + k] : b[k * ldb + n0 + j]);
    }
  }
}

void PackedGemm::runRows(int64_t m0, int64_t m1, int64_t p0, int64_t p1, const float* a, int64_t lda, float* y,
                         int64_t ldy, const float* biasRow, const Activation* act) const {
  const int64_t rows = m1 - m0;
  if (rows <= 0 || p0 >= p1) return;
  // Tiles of near-equal height (32 rows: 11 + 11 + 10, not 12 + 12 + 8).
  const int64_t tiles = (rows + kMaxRows - 1) / kMaxRows;
  // A panel reaching past N goes through this buffer (and the bias row's
  // part, padded with zeros), so nothing past row ends is read or written.
  alignas(64) float edge[kMaxRows * P];
  alignas(64) float edgeBias[P];
  for (int64_t kb = 0; kb < kBlocks_; ++kb) {
    const int64_t k0 = blockStart(kb), kc = blockStart(kb + 1) - k0;
    const bool first = kb == 0, last = kb + 1 == kBlocks_;
    const float* block = packed_.data() + k0 * width_;
    const Activation* la = last ? act : nullptr;
    const bool fromBias = first && biasRow;
    int64_t i = m0;
    for (int64_t t = 0; t < tiles; ++t) {
      const int r = static_cast<int>(rows / tiles + (t < rows % tiles ? 1 : 0));
      const float* at = a + i * lda + k0;
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t n0 = p * P, w = p + 1 == panels_ ? lastWidth_ : P, nc = std::min(w, N_ - n0);
        const TileFn fn = tileFor(r, static_cast<int>(w / 16));
        const float* bp = block + p * kc * P;  // only the last panel may be narrower
        float* yt = y + i * ldy + n0;
        if (nc == w) {
          fn(kc, at, lda, bp, fromBias ? biasRow + n0 : yt, fromBias ? 0 : ldy, yt, ldy, la);
          continue;
        }
        if (fromBias) {
          std::fill(edgeBias, edgeBias + w, 0.f);
          std::copy(biasRow + n0, biasRow + n0 + nc, edgeBias);
        } else {
          for (int rr = 0; rr < r; ++rr) {
            std::fill(edge + rr * w, edge + (rr + 1) * w, 0.f);
            std::copy(yt + rr * ldy, yt + rr * ldy + nc, edge + rr * w);
          }
        }
        fn(kc, at, lda, bp, fromBias ? edgeBias : edge, fromBias ? 0 : w, edge, w, la);
        for (int rr = 0; rr < r; ++rr) std::copy(edge + rr * w, edge + rr * w + nc, yt + rr * ldy);
      }
      i += r;
    }
  }
}

void PackedGemm::run(int64_t M, const float* a, int64_t lda, float* y, int64_t ldy, const float* biasRow,
                     const Activation* act, int threads) const {
  if (M <= 0 || N_ <= 0) return;
  if (K_ == 0) {  // nothing to add: the output is the start value
    for (int64_t i = 0; i < M; ++i) {
      if (biasRow) std::copy(biasRow, biasRow + N_, y + i * ldy);
      if (act && !act->none()) act->apply(y + i * ldy, N_);
    }
    return;
  }
  // Rows while each worker gets two tiles or more; panels otherwise.
  if (threads <= 1 || M >= 2 * kMaxRows * threads || panels_ < 2) {
    topiary::ops::parallelFor(
        M, threads, [&](int64_t m0, int64_t m1) { runRows(m0, m1, 0, panels_, a, lda, y, ldy, biasRow, act); },
        kMaxRows);
  } else {
    topiary::ops::parallelFor(panels_, threads,
                              [&](int64_t p0, int64_t p1) { runRows(0, M, p0, p1, a, lda, y, ldy, biasRow, act); });
  }
}

}  // namespace topiary::kernels
