#include "kernels/pointwise_sparse.h"

#include <algorithm>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int64_t kChunk = 128;  // pixels held in registers at once (8 vectors)

// The lanes of vector j of a chunk of `count` pixels: all 16, or the first
// ones of the last vector (nothing past the chunk is read: the last input
// channel's plane ends there). Computed once per chunk, so the loads carry
// no branch. The loops over the sums are unrolled explicitly (#pragma GCC
// unroll): without it GCC kept the 8 sums on the stack, a store after every
// multiply-add.
inline uint32_t laneMask(int j, int64_t count) {
  const int64_t n = std::min<int64_t>(16, count - 16 * j);
  return n >= 16 ? 0xffffu : (1u << n) - 1;
}

inline v16 loadMasked(const float* p, uint32_t mask) {
#if defined(__AVX512F__)
  const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>(mask), p);
  return reinterpret_cast<const v16&>(v);
#else
  float part[16] = {};
  for (int l = 0; l < 16; ++l)
    if (mask >> l & 1u) part[l] = p[l];
  return load16(part);
#endif
}

// One output channel's chunk; `act` is one activation's v16 -> v16 callable
// (withActivation16), so the stores carry no switch per vector.
template <int NV, class Act>
inline void chunk(const PointwiseSparsePlan& pl, int64_t co, const float* x, int64_t P, float* y, const float* r,
                  const Act& act, int64_t base, int64_t count) {
  uint32_t mask[NV];
  v16 acc[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) {
    mask[j] = laneMask(j, count);
    acc[j] = v16{} + pl.bias[static_cast<size_t>(co)];
  }
  const int64_t k1 = pl.first[static_cast<size_t>(co + 1)];
  for (int64_t k = pl.first[static_cast<size_t>(co)]; k < k1; ++k) {
    const float* xr = x + pl.input[static_cast<size_t>(k)] * P + base;
    const v16 w = v16{} + pl.value[static_cast<size_t>(k)];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[j] += w * loadMasked(xr + 16 * j, mask[j]);
  }
  if (r)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[j] += loadMasked(r + co * P + base + 16 * j, mask[j]);
  storeActivated(y + co * P + base, acc, count, act);
}

// Output channels [c0, c1) of one chunk of NV vectors.
template <int NV, class Act>
void chunkRows(const PointwiseSparsePlan& pl, int64_t c0, int64_t c1, const float* x, int64_t P, float* y,
               const float* r, const Act& act, int64_t base, int64_t count) {
  for (int64_t co = c0; co < c1; ++co) chunk<NV>(pl, co, x, P, y, r, act, base, count);
}

}  // namespace

void PointwiseSparsePlan::pack(const float* w, const float* b, int64_t co, int64_t ci) {
  cout = co;
  cin = ci;
  first.assign(static_cast<size_t>(cout + 1), 0);
  input.clear();
  value.clear();
  bias.assign(static_cast<size_t>(cout), 0.f);
  for (int64_t o = 0; o < cout; ++o) {
    first[static_cast<size_t>(o)] = static_cast<int64_t>(value.size());
    if (b) bias[static_cast<size_t>(o)] = b[o];
    for (int64_t i = 0; i < cin; ++i)
      if (w[o * cin + i] != 0.f) {
        input.push_back(i);
        value.push_back(w[o * cin + i]);
      }
  }
  first[static_cast<size_t>(cout)] = static_cast<int64_t>(value.size());
}

void PointwiseSparsePlan::run(const float* x, int64_t P, float* y, const float* r, const Activation* act, int64_t c0,
                              int64_t c1) const {
  static const Activation kNone;
  // Pixel chunks outside, output channels inside: a chunk of every input
  // channel (16 channels: 8 KB) stays in L1 while all the outputs read it.
  withActivation16(act ? *act : kNone, [&](auto a) {
    for (int64_t base = 0; base < P; base += kChunk) {
      const int64_t count = std::min(kChunk, P - base);
      switch ((count + 15) / 16) {
        case 1:
          chunkRows<1>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
        case 2:
          chunkRows<2>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
        case 3:
          chunkRows<3>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
        case 4:
          chunkRows<4>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
        case 5:
          chunkRows<5>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
        case 6:
          chunkRows<6>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
        case 7:
          chunkRows<7>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
        default:
          chunkRows<8>(*this, c0, c1, x, P, y, r, a, base, count);
          break;
      }
    }
  });
}

}  // namespace topiary::kernels
