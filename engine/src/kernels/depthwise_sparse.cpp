#include "kernels/depthwise_sparse.h"

#include <algorithm>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int64_t kChunk = 128;  // outputs of a row held in registers at once (8 vectors)
constexpr int64_t kVecs = kChunk / 16;

// The outputs o in [0, n) whose input o * s + off lies in [0, size): [lo, hi).
void insideRange(int64_t n, int64_t s, int64_t off, int64_t size, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  hi = size - off <= 0 ? 0 : std::min<int64_t>(n, (size - 1 - off) / s + 1);
  if (hi < lo) hi = lo;
}

// Which of the S * 16 floats from x are read for output lanes [lo, hi): the
// input of lane l is x[l * S], so bits lo * S .. (hi - 1) * S (S = 1, 2).
uint32_t laneBits(int64_t lo, int64_t hi, int64_t s) {
  if (lo >= hi) return 0;
  const uint32_t upto = (hi - 1) * s + 1;  // bits [0, upto)
  return static_cast<uint32_t>(((uint64_t{1} << upto) - 1) & ~((uint64_t{1} << (lo * s)) - 1));
}

// 16 outputs' inputs x[l * S] for the lanes whose bits are set in `bits`
// (laneBits), the other lanes zero; nothing else is read (x itself may lie
// before the row, in its padding).
template <int S>
inline v16 loadLanes(const float* x, uint32_t bits) {
#if defined(__AVX512F__)
  if constexpr (S == 1) {
    const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>(bits), x);
    return reinterpret_cast<const v16&>(v);
  } else {
    const __m512 a = _mm512_maskz_loadu_ps(static_cast<__mmask16>(bits & 0xffff), x);
    const __m512 b = _mm512_maskz_loadu_ps(static_cast<__mmask16>(bits >> 16), x + 16);
    v16 even, odd;
    deinterleave(reinterpret_cast<const v16&>(a), reinterpret_cast<const v16&>(b), even, odd);
    return even;
  }
#else
  float part[16] = {};
  for (int l = 0; l < 16; ++l)
    if (bits >> (l * S) & 1u) part[l] = x[l * S];
  return load16(part);
#endif
}

// One output row's NV vectors from output column `col`: every tap that
// reaches the row adds to them in registers; stored once, activated.
// `act` is one activation's v16 -> v16 callable (withActivation16), so the
// stores carry no switch per vector.
template <int NV, int S, class Act>
void rowChunk(const DepthwiseSparsePlan& p, const DepthwiseSparsePlan::Tap* t0, const DepthwiseSparsePlan::Tap* t1,
              const float* xc, float* yr, float bias, const Act& act, int64_t oh, int64_t chunk, int64_t width) {
  v16 acc[NV];
  for (int j = 0; j < NV; ++j) acc[j] = broadcast16(bias);
  const int64_t col = chunk * kChunk;
  for (const DepthwiseSparsePlan::Tap* t = t0; t < t1; ++t) {
    if (oh < t->oh0 || oh >= t->oh1) continue;
    const float* xr = xc + (oh * p.sH + t->ih) * p.W + (col * S + t->iw);
    const uint32_t* bits = p.laneMasks.data() + t->masks + chunk * kVecs;
    const v16 w = broadcast16(t->w);
    for (int j = 0; j < NV; ++j)
      if (bits[j]) acc[j] += w * loadLanes<S>(xr + 16 * S * j, bits[j]);
  }
  storeActivated(yr, acc, width, act);
}

template <int S, class Act>
using RowFn = void (*)(const DepthwiseSparsePlan&, const DepthwiseSparsePlan::Tap*, const DepthwiseSparsePlan::Tap*,
                       const float*, float*, float, const Act&, int64_t, int64_t, int64_t);

template <int S, class Act>
RowFn<S, Act> rowFor(int64_t nv) {
  static const RowFn<S, Act> fns[kVecs] = {rowChunk<1, S, Act>, rowChunk<2, S, Act>, rowChunk<3, S, Act>,
                                           rowChunk<4, S, Act>, rowChunk<5, S, Act>, rowChunk<6, S, Act>,
                                           rowChunk<7, S, Act>, rowChunk<8, S, Act>};
  return fns[nv - 1];
}

// Flat plane (plan.flat): NV vectors of outputs from flat output `base`.
template <int NV, class Act>
void flatChunk(const DepthwiseSparsePlan& p, const DepthwiseSparsePlan::Tap* t0, const DepthwiseSparsePlan::Tap* t1,
               const float* xc, float* yc, float bias, const Act& act, int64_t base, int64_t count) {
  v16 acc[NV];
  for (int j = 0; j < NV; ++j) acc[j] = broadcast16(bias);
  const uint32_t* masks = p.laneMasks.data() + base / 16;
  for (const DepthwiseSparsePlan::Tap* t = t0; t < t1; ++t) {
    const float* xr = xc + (base + t->shift);
    const uint32_t* bits = masks + t->masks;
    const v16 w = broadcast16(t->w);
    for (int j = 0; j < NV; ++j)
      if (bits[j]) acc[j] += w * loadLanes<1>(xr + 16 * j, bits[j]);
  }
  storeActivated(yc + base, acc, count, act);
}

template <class Act>
using FlatFn = void (*)(const DepthwiseSparsePlan&, const DepthwiseSparsePlan::Tap*, const DepthwiseSparsePlan::Tap*,
                        const float*, float*, float, const Act&, int64_t, int64_t);

template <class Act>
void flatChannel(const DepthwiseSparsePlan& p, const DepthwiseSparsePlan::Tap* t0, const DepthwiseSparsePlan::Tap* t1,
                 const float* xc, float* yc, float bias, const Act& a) {
  static const FlatFn<Act> fns[kVecs] = {flatChunk<1, Act>, flatChunk<2, Act>, flatChunk<3, Act>, flatChunk<4, Act>,
                                         flatChunk<5, Act>, flatChunk<6, Act>, flatChunk<7, Act>, flatChunk<8, Act>};
  const int64_t plane = p.Ho * p.Wo;
  for (int64_t base = 0; base < plane; base += kChunk) {
    const int64_t count = std::min(kChunk, plane - base);
    fns[(count + 15) / 16 - 1](p, t0, t1, xc, yc, bias, a, base, count);
  }
}

#if defined(__AVX512F__)
// Stride 2 with at most 8 outputs per row (14x14 -> 7x7): two output rows per
// vector, lanes 0-7 row oh and lanes 8-15 row oh + 1. Each row's inputs are
// one masked 16-float load, and the even lanes of the two loads de-interleaved
// are both rows' inputs in lane order: a 7x7 plane takes 4 vectors per tap
// instead of 7. The two rows are adjacent in y, so one compress and one masked
// store write both.
template <class Act>
void pairRows(const DepthwiseSparsePlan& p, const DepthwiseSparsePlan::Tap* t0, const DepthwiseSparsePlan::Tap* t1,
              const float* xc, float* yc, float bias, const Act& act) {
  const uint32_t row = (1u << p.Wo) - 1;
  const __mmask16 keep = static_cast<__mmask16>(row | row << 8);
  for (int64_t oh = 0; oh < p.Ho; oh += 2) {
    const bool second = oh + 1 < p.Ho;
    v16 acc = broadcast16(bias);
    for (const DepthwiseSparsePlan::Tap* t = t0; t < t1; ++t) {
      const bool in0 = oh >= t->oh0 && oh < t->oh1, in1 = second && oh + 1 >= t->oh0 && oh + 1 < t->oh1;
      if (!in0 && !in1) continue;
      // Chunk 0's first vector: lanes [ow0, ow1) within 0-7, so bits below 16.
      const uint32_t bits = p.laneMasks[static_cast<size_t>(t->masks)];
      const float* x0 = xc + (oh * p.sH + t->ih) * p.W + t->iw;
      const __m512 r0 = _mm512_maskz_loadu_ps(static_cast<__mmask16>(in0 ? bits : 0u), x0);
      const __m512 r1 = _mm512_maskz_loadu_ps(static_cast<__mmask16>(in1 ? bits : 0u), x0 + p.sH * p.W);
      v16 even, odd;
      deinterleave(reinterpret_cast<const v16&>(r0), reinterpret_cast<const v16&>(r1), even, odd);
      acc += t->w * even;
    }
    const v16 v = act(acc);
    const __m512 both = _mm512_maskz_compress_ps(keep, reinterpret_cast<const __m512&>(v));
    storePrefix(yc + oh * p.Wo, reinterpret_cast<const v16&>(both), second ? 2 * p.Wo : p.Wo);
  }
}
#endif

template <int S, class Act>
void channel(const DepthwiseSparsePlan& p, const DepthwiseSparsePlan::Tap* t0, const DepthwiseSparsePlan::Tap* t1,
             const float* xc, float* yc, float bias, const Act& a) {
  for (int64_t chunk = 0; chunk * kChunk < p.Wo; ++chunk) {
    const int64_t width = std::min(kChunk, p.Wo - chunk * kChunk);
    const RowFn<S, Act> row = rowFor<S, Act>((width + 15) / 16);
    for (int64_t oh = 0; oh < p.Ho; ++oh)
      row(p, t0, t1, xc, yc + oh * p.Wo + chunk * kChunk, bias, a, oh, chunk, width);
  }
}

}  // namespace

void DepthwiseSparsePlan::pack(const float* w, const float* b) {
  taps.clear();
  laneMasks.clear();
  first.assign(static_cast<size_t>(C + 1), 0);
  bias.assign(static_cast<size_t>(C), 0.f);
  const int64_t chunks = (Wo + kChunk - 1) / kChunk;
  flat = sH == 1 && sW == 1 && Wo == W;
  const int64_t flatVecs = (Ho * Wo + 15) / 16;
  if (flat) {  // per kernel position and vector: the lanes whose input is inside the image
    laneMasks.assign(static_cast<size_t>(kH * kW * flatVecs), 0u);
    for (int64_t kh = 0; kh < kH; ++kh)
      for (int64_t kw = 0; kw < kW; ++kw) {
        const int64_t ih = kh * dH - padT, iw = kw * dW - padL;
        uint32_t* m = laneMasks.data() + (kh * kW + kw) * flatVecs;
        for (int64_t i = 0; i < Ho * Wo; ++i) {
          const int64_t r = i / Wo + ih, col = i % Wo + iw;
          if (r >= 0 && r < H && col >= 0 && col < W) m[i / 16] |= 1u << (i % 16);
        }
      }
  }
  for (int64_t c = 0; c < C; ++c) {
    first[static_cast<size_t>(c)] = static_cast<int64_t>(taps.size());
    if (b) bias[static_cast<size_t>(c)] = b[c];
    for (int64_t kh = 0; kh < kH; ++kh)
      for (int64_t kw = 0; kw < kW; ++kw) {
        const float v = w[(c * kH + kh) * kW + kw];
        if (v == 0.f) continue;
        Tap t;
        t.w = v;
        t.ih = kh * dH - padT;
        t.iw = kw * dW - padL;
        insideRange(Ho, sH, t.ih, H, t.oh0, t.oh1);
        insideRange(Wo, sW, t.iw, W, t.ow0, t.ow1);
        if (t.oh0 >= t.oh1 || t.ow0 >= t.ow1) continue;  // a tap that only ever reads padding adds nothing
        if (flat) {
          t.masks = (kh * kW + kw) * flatVecs;
          t.shift = t.ih * W + t.iw;
          taps.push_back(t);
          continue;
        }
        t.masks = static_cast<int64_t>(laneMasks.size());
        for (int64_t ch = 0; ch < chunks; ++ch)
          for (int64_t j = 0; j < kVecs; ++j) {
            const int64_t col = ch * kChunk + 16 * j;  // output column of lane 0
            const int64_t lo = std::max<int64_t>(t.ow0 - col, 0), hi = std::min<int64_t>(t.ow1 - col, 16);
            laneMasks.push_back(sW <= 2 ? laneBits(lo, hi, sW) : 0);
          }
        taps.push_back(t);
      }
  }
  first[static_cast<size_t>(C)] = static_cast<int64_t>(taps.size());
}

void DepthwiseSparsePlan::run(const float* x, float* y, const Activation* act, int64_t c0, int64_t c1) const {
  static const Activation kNone;
  const Activation& a = act ? *act : kNone;
  const int64_t inPlane = H * W, outPlane = Ho * Wo;
  withActivation16(a, [&](auto actv) {
    for (int64_t c = c0; c < c1; ++c) {
      const float* xc = x + c * inPlane;
      float* yc = y + c * outPlane;
      const Tap* t0 = taps.data() + first[static_cast<size_t>(c)];
      const Tap* t1 = taps.data() + first[static_cast<size_t>(c + 1)];
      const float b = bias[static_cast<size_t>(c)];
      if (t0 == t1) {  // no tap: the plane is act(bias)
        const v16 v = actv(broadcast16(b));
        int64_t i = 0;
        for (; i + 16 <= outPlane; i += 16) store16(yc + i, v);
        if (i < outPlane) storePrefix(yc + i, v, outPlane - i);
      } else if (flat) {
        flatChannel(*this, t0, t1, xc, yc, b, actv);
      } else if (sW == 1) {
        channel<1>(*this, t0, t1, xc, yc, b, actv);
      } else if (sW == 2) {
#if defined(__AVX512F__)
        if (Wo <= 8) {
          pairRows(*this, t0, t1, xc, yc, b, actv);
          continue;
        }
#endif
        channel<2>(*this, t0, t1, xc, yc, b, actv);
      } else {  // rare: larger strides accumulate in place, scalar
        for (int64_t i = 0; i < outPlane; ++i) yc[i] = b;
        for (const Tap* t = t0; t < t1; ++t)
          for (int64_t oh = t->oh0; oh < t->oh1; ++oh)
            for (int64_t ow = t->ow0; ow < t->ow1; ++ow)
              yc[oh * Wo + ow] += t->w * xc[(oh * sH + t->ih) * W + ow * sW + t->iw];
        a.apply(yc, outPlane);
      }
    }
  });
}

}  // namespace topiary::kernels
