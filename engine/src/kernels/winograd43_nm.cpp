#include "kernels/winograd43_nm.h"

#include <algorithm>

#include "kernels/mask_cases.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kBlock = Winograd43Plan::kBlock;
constexpr int kXi = 36;

constexpr int bitCount(int m) { return m ? (m & 1) + bitCount(m >> 1) : 0; }

// Output B of the block, if it keeps this channel (bit B of mask K): its
// transform at each of the P positions (`kept` floats apart) is the next
// weight after those of the outputs below B.
template <int K, int N, int P, int B>
[[gnu::always_inline]] inline void keptBy(v16 (&acc)[kBlock][N], const v16 (&x)[N], const float* w, int64_t kept) {
  if constexpr (((K >> B) & 1) != 0) {
    constexpr int j = bitCount(K & ((1 << B) - 1));
    for (int p = 0; p < P; ++p) {
      const float u = w[p * kept + j];
      for (int v = 0; v < N / P; ++v) acc[B][p * (N / P) + v] += u * x[p * (N / P) + v];
    }
  }
}

// The outputs of mask K: one multiply-add per kept kernel and tile vector,
// every one from the channel's N tile vectors already in registers.
template <int K, int N, int P>
[[gnu::always_inline]] inline void channel(v16 (&acc)[kBlock][N], const v16 (&x)[N], const float* w, int64_t kept) {
  keptBy<K, N, P, 0>(acc, x, w, kept);
  keptBy<K, N, P, 1>(acc, x, w, kept);
  keptBy<K, N, P, 2>(acc, x, w, kept);
  keptBy<K, N, P, 3>(acc, x, w, kept);
  keptBy<K, N, P, 4>(acc, x, w, kept);
  keptBy<K, N, P, 5>(acc, x, w, kept);
  keptBy<K, N, P, 6>(acc, x, w, kept);
  keptBy<K, N, P, 7>(acc, x, w, kept);
}

// All 36 positions for one block of 8 outputs and NV tile vectors: per
// input channel its tile vectors are loaded once and serve every output of
// the block that keeps the channel (about half of them), the mask picking
// the code for exactly those. 8 x 2 accumulators in registers, as in the
// dense product, with half its multiply-adds: NV = 2 vectors at one
// position, or NV = 1 at P = 2 positions at a time (the pattern is the same
// at every position), so that each jump serves about 8 multiply-adds.
template <int NV>
void product(const float* V, int64_t vStride, int64_t cin, const uint8_t* masks, const float* U, int64_t kept,
             float* M, int64_t mStride, int64_t chunk) {
  constexpr int P = NV == 1 ? 2 : 1, N = P * NV;  // 36 positions: P divides them
  for (int xi = 0; xi < kXi; xi += P) {
    v16 acc[kBlock][N];
    for (int b = 0; b < kBlock; ++b)
      for (int v = 0; v < N; ++v) acc[b][v] = v16{};
    const float* vp = V + xi * vStride;
    const float* w = U + xi * kept;
    for (int64_t ci = 0; ci < cin; ++ci, vp += chunk) {
      v16 x[N];
      for (int p = 0; p < P; ++p)
        for (int v = 0; v < NV; ++v) x[p * NV + v] = load16(vp + p * vStride + 16 * v);
      switch (masks[ci]) {
#define TOPIARY_K1(k)                  \
  case k:                              \
    channel<k, N, P>(acc, x, w, kept); \
    w += bitCount(k);                  \
    break;
      TOPIARY_EACH_MASK(TOPIARY_K1)
#undef TOPIARY_K1
      }
    }
    for (int p = 0; p < P; ++p) {
      float* m = M + (xi + p) * mStride;
      for (int b = 0; b < kBlock; ++b)
        for (int v = 0; v < NV; ++v) store16(m + b * chunk + 16 * v, acc[b][p * NV + v]);
    }
  }
}

}  // namespace

void winograd43NmProduct(int nv, const float* V, int64_t vStride, int64_t cin, const uint8_t* masks, const float* U,
                         int64_t kept, float* M, int64_t mStride, int64_t chunk) {
  if (nv == 1) return product<1>(V, vStride, cin, masks, U, kept, M, mStride, chunk);
  product<2>(V, vStride, cin, masks, U, kept, M, mStride, chunk);
}

bool hasKernelNmPattern(const float* w, int64_t cout, int64_t cin, int64_t taps, int n, int m) {
  if (n < 1 || m < 2 * n || cin < m) return false;  // fewer channels than a group: nothing pruned
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t c0 = 0; c0 < cin; c0 += m) {
      int nz = 0;
      for (int64_t ci = c0; ci < std::min<int64_t>(cin, c0 + m); ++ci) {
        const float* k = w + (co * cin + ci) * taps;
        nz += std::any_of(k, k + taps, [](float v) { return v != 0.f; });
      }
      if (nz > n) return false;
    }
  return true;
}

void Winograd43NmPlan::pack(const float* w) {
  const int64_t blocks = (cout + kBlock - 1) / kBlock;
  auto keeps = [&](int64_t co, int64_t ci) {
    const float* k = w + (co * cin + ci) * 9;
    return std::any_of(k, k + 9, [](float v) { return v != 0.f; });
  };
  // Which outputs of each block keep each channel, and the most kernels any output keeps.
  nmMasks.assign(static_cast<size_t>(blocks * cin), 0);
  nmSlots = 1;  // at least one, so that a plan with every kernel zero still runs this product
  for (int64_t co = 0; co < cout; ++co) {
    int64_t kept = 0;
    for (int64_t ci = 0; ci < cin; ++ci)
      if (keeps(co, ci)) {
        nmMasks[static_cast<size_t>((co / kBlock) * cin + ci)] |= static_cast<uint8_t>(1u << (co % kBlock));
        ++kept;
      }
    nmSlots = std::max(nmSlots, kept);
  }
  // Each block's transforms [36][kept in the block], in (channel, output) order.
  nmOffsets.assign(static_cast<size_t>(blocks + 1), 0);
  for (int64_t blk = 0; blk < blocks; ++blk) {
    int32_t kept = 0;
    for (int64_t ci = 0; ci < cin; ++ci) kept += __builtin_popcount(nmMasks[static_cast<size_t>(blk * cin + ci)]);
    nmOffsets[static_cast<size_t>(blk + 1)] = nmOffsets[static_cast<size_t>(blk)] + kXi * kept;
  }
  packed.assign(static_cast<size_t>(std::max<int32_t>(1, nmOffsets.back())), 0.f);  // never empty
  float u[kXi];
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t start = nmOffsets[static_cast<size_t>(blk)];
    const int64_t kept = (nmOffsets[static_cast<size_t>(blk + 1)] - start) / kXi;
    int64_t j = 0;
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int b = 0; b < kBlock; ++b) {
        if (!((nmMasks[static_cast<size_t>(blk * cin + ci)] >> b) & 1)) continue;
        transformKernel(w + ((blk * kBlock + b) * cin + ci) * 9, u);
        for (int xi = 0; xi < kXi; ++xi) packed[static_cast<size_t>(start + xi * kept + j)] = u[xi];
        ++j;
      }
  }
}

}  // namespace topiary::kernels
