#include "kernels/pointwise_sparse.h"

#include <algorithm>
#include <cstdint>

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
// (withActivation16), so the stores carry no switch per vector. x holds the
// input channels S floats apart (P, or the staged copy's padded stride).
// Only the last vector can be partial (NV = ceil(count / 16)), so only its
// loads are masked.
template <int NV, class Act>
inline void chunk(const PointwiseSparsePlan& pl, int64_t co, const float* x, int64_t S, int64_t P, float* y,
                  const float* r, const Act& act, int64_t base, int64_t count) {
  const uint32_t last = laneMask(NV - 1, count);
  v16 acc[NV];
#pragma GCC unroll 8
  for (int j = 0; j < NV; ++j) acc[j] = broadcast16(pl.bias[static_cast<size_t>(co)]);
  const int64_t k1 = pl.first[static_cast<size_t>(co + 1)];
  for (int64_t k = pl.first[static_cast<size_t>(co)]; k < k1; ++k) {
    const float* xr = x + pl.input[static_cast<size_t>(k)] * S + base;
    const v16 w = broadcast16(pl.value[static_cast<size_t>(k)]);
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[j] += w * (j + 1 < NV ? load16(xr + 16 * j) : loadMasked(xr + 16 * j, last));
  }
  if (r) {
    const float* rr = r + co * P + base;
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[j] += j + 1 < NV ? load16(rr + 16 * j) : loadMasked(rr + 16 * j, last);
  }
  storeActivated(y + co * P + base, acc, count, act);
}

// Output channels [c0, c1) of one chunk of NV vectors.
template <int NV, class Act>
void chunkRows(const PointwiseSparsePlan& pl, int64_t c0, int64_t c1, const float* x, int64_t S, int64_t P, float* y,
               const float* r, const Act& act, int64_t base, int64_t count) {
  for (int64_t co = c0; co < c1; ++co) chunk<NV>(pl, co, x, S, P, y, r, act, base, count);
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

int64_t PointwiseSparsePlan::stagedStride(int64_t P) { return P % 16 == 0 ? 0 : (P + 15) / 16 * 16; }

int64_t PointwiseSparsePlan::stageFloats(int64_t P) const {
  // The copy pays when each input plane is read about 8 times or more
  // (harness, one thread: 2:4 and 90% on 7x7 planes gain 1.1-1.3x; 90% on
  // 14x14, about 6 reads per plane, lost 1.2x).
  const int64_t S = stagedStride(P);
  return S == 0 || nonzeros() < 8 * cin ? 0 : cin * S + 16;  // + 16: room to align the copy to 64 bytes
}

void PointwiseSparsePlan::run(const float* x, int64_t P, float* y, const float* r, const Activation* act, int64_t c0,
                              int64_t c1, float* stage) const {
  static const Activation kNone;
  // A plane of P pixels starts 4P bytes after the last: unless P is a
  // multiple of 16, most vector loads would straddle two cache lines (7x7,
  // 14x14), which costs about 1.4x the time of the product. The staged copy
  // keeps every plane 64-byte aligned; it costs one pass over the input,
  // against the product's pass per kept weight.
  int64_t S = P;
  if (stage && stageFloats(P) != 0) {
    S = stagedStride(P);
    float* s = align64(stage);
    for (int64_t c = 0; c < cin; ++c) std::copy(x + c * P, x + c * P + P, s + c * S);
    x = s;
  }
  // Pixel chunks outside, output channels inside: a chunk of every input
  // channel (16 channels: 8 KB) stays in L1 while all the outputs read it.
  withActivation16(act ? *act : kNone, [&](auto a) {
    for (int64_t base = 0; base < P; base += kChunk) {
      const int64_t count = std::min(kChunk, P - base);
      switch ((count + 15) / 16) {
        case 1:
          chunkRows<1>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
        case 2:
          chunkRows<2>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
        case 3:
          chunkRows<3>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
        case 4:
          chunkRows<4>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
        case 5:
          chunkRows<5>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
        case 6:
          chunkRows<6>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
        case 7:
          chunkRows<7>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
        default:
          chunkRows<8>(*this, c0, c1, x, S, P, y, r, a, base, count);
          break;
      }
    }
  });
}

}  // namespace topiary::kernels
