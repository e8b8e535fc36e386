#include "kernels/winograd43_nm.h"

#include <algorithm>

#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kBlock = Winograd43Plan::kBlock;
constexpr int kXi = 36;
// Tiles per product chunk: 4 vectors, so each weight broadcast serves 4
// multiply-adds (the dense plan's 2 would leave 2 loads per multiply-add).
constexpr int kNmChunk = 64;

// BB outputs (of a block of 8) at one position xi, NV tile vectors: BB *
// NV accumulators (8 to 16: enough independent chains to hide the
// multiply-add latency, few enough to stay in registers); each weight
// broadcast serves the NV tile vectors. (Two positions per call, sharing
// each channel offset, were slower on resnet8: two V planes of up to 16 KB
// competed for L1.)
template <int BB, int NV>
inline void outputsAtPosition(const float* V, const float* U, const int32_t* off, int64_t slots, float* M,
                              int64_t chunk) {
  v16 acc[BB][NV];
  for (int b = 0; b < BB; ++b)
    for (int v = 0; v < NV; ++v) acc[b][v] = v16{};
  for (int64_t j = 0; j < slots; ++j, off += kBlock, U += kBlock)
    for (int b = 0; b < BB; ++b) {
      const float* p = V + off[b];
      const float w = U[b];
      for (int v = 0; v < NV; ++v) acc[b][v] += w * load16(p + 16 * v);
    }
  for (int b = 0; b < BB; ++b)
    for (int v = 0; v < NV; ++v) store16(M + b * chunk + 16 * v, acc[b][v]);
}

template <int NV>
void product(int B, const float* V, int64_t vStride, const float* U, const int32_t* off, int64_t slots, float* M,
             int64_t mStride, int64_t chunk) {
  constexpr int BB = NV == 1 ? 8 : 4;      // outputs at a time: at most 16 accumulators
  const int64_t uStride = slots * kBlock;  // one position's weights
  for (int xi = 0; xi < kXi; ++xi) {
    const float* Vx = V + xi * vStride;
    const float* Ux = U + xi * uStride;
    float* Mx = M + xi * mStride;
    int b0 = 0;
    for (; b0 + BB <= B; b0 += BB) outputsAtPosition<BB, NV>(Vx, Ux + b0, off + b0, slots, Mx + b0 * chunk, chunk);
    for (; b0 < B; ++b0)  // a last partial block (cout not a multiple of 8)
      outputsAtPosition<1, NV>(Vx, Ux + b0, off + b0, slots, Mx + b0 * chunk, chunk);
  }
}

}  // namespace

void winograd43NmProduct(int nv, int B, const float* V, int64_t vStride, const float* U, const int32_t* off,
                         int64_t slots, float* M, int64_t mStride, int64_t chunk) {
  switch (nv) {
    case 1: return product<1>(B, V, vStride, U, off, slots, M, mStride, chunk);
    case 2: return product<2>(B, V, vStride, U, off, slots, M, mStride, chunk);
    case 3: return product<3>(B, V, vStride, U, off, slots, M, mStride, chunk);
    default: return product<4>(B, V, vStride, U, off, slots, M, mStride, chunk);
  }
}

void Winograd43NmPlan::init() {
  Winograd43Plan::init();
  chunk = kNmChunk;
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
  // Kept channels per output: those whose kernel has a nonzero.
  std::vector<std::vector<int32_t>> kept(static_cast<size_t>(cout));
  int64_t slots = 1;  // at least one (a zero weight) so that `packed` is never empty
  for (int64_t co = 0; co < cout; ++co) {
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* k = w + (co * cin + ci) * 9;
      if (std::any_of(k, k + 9, [](float v) { return v != 0.f; })) kept[static_cast<size_t>(co)].push_back(static_cast<int32_t>(ci));
    }
    slots = std::max<int64_t>(slots, static_cast<int64_t>(kept[static_cast<size_t>(co)].size()));
  }
  const int64_t blocks = (cout + kBlock - 1) / kBlock;
  packed.assign(static_cast<size_t>(blocks * kXi * slots * kBlock), 0.f);
  // Padding slots: weight 0 at channel 0 (a valid address).
  nmOffsets.assign(static_cast<size_t>(blocks * slots * kBlock), 0);
  nmSlots = slots;
  float u[kXi];
  for (int64_t co = 0; co < cout; ++co) {
    const int64_t blk = co / kBlock, b = co % kBlock;
    const auto& ks = kept[static_cast<size_t>(co)];
    for (size_t j = 0; j < ks.size(); ++j) {
      transformKernel(w + (co * cin + ks[j]) * 9, u);
      for (int xi = 0; xi < kXi; ++xi)
        packed[static_cast<size_t>(((blk * kXi + xi) * slots + static_cast<int64_t>(j)) * kBlock + b)] = u[xi];
      // V holds channel ci's chunk at ci * kNmChunk within each position's plane.
      nmOffsets[static_cast<size_t>((blk * slots + static_cast<int64_t>(j)) * kBlock + b)] = ks[j] * static_cast<int32_t>(kNmChunk);
    }
  }
}

}  // namespace topiary::kernels
