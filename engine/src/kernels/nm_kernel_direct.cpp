#include "kernels/nm_kernel_direct.h"

#include <algorithm>

#include "kernels/activation.h"
#include "kernels/direct_conv.h"
#include "kernels/mask_cases.h"
#include "kernels/vec.h"
#include "kernels/winograd43_nm.h"

namespace topiary::kernels {

namespace {

constexpr int kBlock = NmKernelDirectPlan::kBlock;

[[maybe_unused]] constexpr int bitCount(int m) { return m ? (m & 1) + bitCount(m >> 1) : 0; }

// Output B of the block, if mask K keeps it: its weight at this tap is the
// next after those of the kept outputs below B.
template <int K, int V, int B>
[[gnu::always_inline]] inline void keptBy(v16 (&acc)[V][kBlock], const v16 (&x)[V], const float* w) {
  if constexpr (((K >> B) & 1) != 0) {
    const float u = w[bitCount(K & ((1 << B) - 1))];
    for (int v = 0; v < V; ++v) acc[v][B] += u * x[v];
  }
}

// Every tap of one input channel for the outputs of mask K: each input
// vector is loaded once per tap and serves exactly the kept outputs.
template <int K, int V>
[[gnu::always_inline]] inline void channel(v16 (&acc)[V][kBlock], const float* xc, const int64_t* shifts,
                                           int64_t taps, const float* w) {
  constexpr int kept = bitCount(K);
  for (int64_t t = 0; t < taps; ++t, w += kept) {
    const float* xs = xc + shifts[t];
    v16 x[V];
    for (int v = 0; v < V; ++v) x[v] = load16(xs + 16 * v);
    keptBy<K, V, 0>(acc, x, w);
    keptBy<K, V, 1>(acc, x, w);
    keptBy<K, V, 2>(acc, x, w);
    keptBy<K, V, 3>(acc, x, w);
    keptBy<K, V, 4>(acc, x, w);
    keptBy<K, V, 5>(acc, x, w);
    keptBy<K, V, 6>(acc, x, w);
    keptBy<K, V, 7>(acc, x, w);
  }
}

// Outputs [o, o + 16V) of the `count` output channels of one block (rows
// `pitch` floats apart in ywide), over every input channel.
template <int V>
void chunk(const DirectConvPlan& p, const uint8_t* masks, const float* w, const float* xin, float* ywide,
           int64_t pitch, int count, int64_t o) {
  const int64_t taps = p.kH * p.kW;
  const int64_t* shifts = p.shifts.data();
  v16 acc[V][kBlock];
  for (int v = 0; v < V; ++v)
    for (int b = 0; b < kBlock; ++b) acc[v][b] = v16{};
  for (int64_t ci = 0; ci < p.cin; ++ci) {
    const float* xc = xin + ci * p.plane + o;
    const uint8_t mask = masks[ci];
    if (mask == 0) continue;
#if defined(TOPIARY_SANITIZED)
    // Sanitizer builds: the same reads and sums in a loop over the mask's
    // bits. Instrumented, the 256 compiled cases took 6-7 minutes to build;
    // the release build's tests check the cases themselves. (A jump per tap
    // instead of per channel compiles fast but ran 2.4x slower: the
    // accumulators left the registers.)
    for (int64_t t = 0; t < taps; ++t) {
      const float* xs = xc + shifts[t];
      v16 x[V];
      for (int v = 0; v < V; ++v) x[v] = load16(xs + 16 * v);
      for (int b = 0; b < kBlock; ++b)
        if ((mask >> b) & 1) {
          const float u = *w++;
          for (int v = 0; v < V; ++v) acc[v][b] += u * x[v];
        }
    }
#else
    switch (mask) {
#define TOPIARY_K1(k)                        \
  case k:                                    \
    channel<k, V>(acc, xc, shifts, taps, w); \
    w += taps * bitCount(k);                 \
    break;
      TOPIARY_EACH_MASK(TOPIARY_K1)
#undef TOPIARY_K1
    }
#endif
  }
  for (int b = 0; b < count; ++b)
    for (int v = 0; v < V; ++v) store16(ywide + b * pitch + o + 16 * v, acc[v][b]);
}

}  // namespace

bool NmKernelDirectPlan::build(const DirectConvPlan& p, const float* w) {
  built = false;
  const int64_t kTaps = p.kH * p.kW;
  if (!hasKernelNmPattern(w, p.cout, p.cin, kTaps)) return false;
  cout = p.cout, cin = p.cin, taps = kTaps, plane = p.plane, wide = p.wide;
  const int64_t blocks = (cout + kBlock - 1) / kBlock;
  auto keeps = [&](int64_t co, int64_t ci) {
    const float* k = w + (co * cin + ci) * taps;
    return std::any_of(k, k + taps, [](float v) { return v != 0.f; });
  };
  masks.assign(static_cast<size_t>(blocks * cin), 0);
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t ci = 0; ci < cin; ++ci)
      if (keeps(co, ci)) masks[static_cast<size_t>((co / kBlock) * cin + ci)] |= static_cast<uint8_t>(1u << (co % kBlock));
  start.assign(static_cast<size_t>(blocks + 1), 0);
  weights.clear();
  for (int64_t blk = 0; blk < blocks; ++blk) {
    for (int64_t ci = 0; ci < cin; ++ci) {
      const uint8_t m = masks[static_cast<size_t>(blk * cin + ci)];
      for (int64_t t = 0; t < taps; ++t)
        for (int b = 0; b < kBlock; ++b)
          if ((m >> b) & 1) weights.push_back(w[((blk * kBlock + b) * cin + ci) * taps + t]);
    }
    start[static_cast<size_t>(blk + 1)] = static_cast<int64_t>(weights.size());
  }
  weights.push_back(0.f);  // never empty, so data() is a valid pointer
  built = true;
  return true;
}

bool NmKernelDirectPlan::builtFor(const DirectConvPlan& p) const {
  return built && cout == p.cout && cin == p.cin && taps == p.kH * p.kW && plane == p.plane && wide == p.wide;
}

void NmKernelDirectPlan::run(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b,
                             const Activation* act, const float* r) const {
  if (!builtFor(p)) return p.run(x, y, scratch, b, act, r);
  p.runWide(
      x, y, scratch, b, act,
      [&](const float* xin, float* ywide, int64_t o0, int64_t o1) { compute(p, xin, ywide, o0, o1); }, r);
}

void NmKernelDirectPlan::runRows(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b,
                                 const Activation* act, int64_t oh0, int64_t oh1, const float* r) const {
  p.runWideRows(
      x, y, scratch, b, act, oh0, oh1,
      [&](const float* xin, float* ywide, int64_t o0, int64_t o1) { compute(p, xin, ywide, o0, o1); }, r);
}

void NmKernelDirectPlan::compute(const DirectConvPlan& p, const float* xin, float* ywide, int64_t o0,
                                 int64_t o1) const {
  const int64_t end = o0 + (o1 - o0 + 15) / 16 * 16;
  // 48 outputs at a time (24 accumulators, 3 inputs and a weight fit the 32
  // registers), ending on 32 + 32 rather than 48 + 16, as the dense kernel.
  const int64_t tail = (end - o0) % 48 == 16 && end - o0 >= 64 ? 64 : 0;
  for (int64_t co = 0; co < cout; co += kBlock) {
    const int count = static_cast<int>(std::min<int64_t>(kBlock, cout - co));
    const uint8_t* m = masks.data() + (co / kBlock) * cin;
    const float* w = weights.data() + start[static_cast<size_t>(co / kBlock)];
    float* yb = ywide + co * p.wide;
    int64_t o = o0;
    for (; o + 48 <= end - tail; o += 48) chunk<3>(p, m, w, xin, yb, p.wide, count, o);
    for (; tail && o + 32 <= end; o += 32) chunk<2>(p, m, w, xin, yb, p.wide, count, o);
    if (o + 32 <= end) chunk<2>(p, m, w, xin, yb, p.wide, count, o), o += 32;
    if (o < end) chunk<1>(p, m, w, xin, yb, p.wide, count, o);
  }
}

}  // namespace topiary::kernels
