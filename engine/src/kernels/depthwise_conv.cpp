#include "kernels/depthwise_conv.h"

#include <algorithm>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kLanes = 16;  // channels per interleaved block

// Where a block's outputs go: output pixel i at base + i * stride, through
// the activation (channels-last output: straight into y; NCHW: into the
// block's scratch, activated when transposed out).
// `act` is one activation's v16 -> v16 callable (withActivation16), so the
// row kernels are compiled per activation with no switch per stored vector
// (mobilenet-tiny 3% faster).
template <class A>
struct Out {
  float* base;
  int64_t stride;
  A act;
  void store(int64_t i, v16 v) const { store16(base + i * stride, act(v)); }
};

// One output (oh, ow) of a 16-channel block: any kernel size, stride, dilation.
inline v16 onePoint(const DepthwisePlan& p, const float* xp, const float* wb, v16 bias, int64_t oh, int64_t ow) {
  v16 acc = bias;
  for (int64_t kh = 0; kh < p.kH; ++kh) {
    const float* xr = xp + ((oh * p.sH + kh * p.dH) * p.Wp + ow * p.sW) * kLanes;
    const float* wr = wb + kh * p.kW * kLanes;
    for (int64_t kw = 0; kw < p.kW; ++kw) acc += load16(wr + kw * kLanes) * load16(xr + kw * p.dW * kLanes);
  }
  return acc;
}

// R neighbouring outputs of one row for a KW-wide kernel with horizontal
// stride S and no horizontal dilation: they share input columns, so each row
// of taps loads (R-1)*S + KW vectors for R*KW multiply-adds instead of R*KW.
template <int KW, int S, int R, class O>
inline void outputs(const DepthwisePlan& p, const float* xp, const float* wb, v16 bias, const O& o, int64_t oh,
                    int64_t ow) {
  constexpr int L = (R - 1) * S + KW;
  v16 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = bias;
  for (int64_t kh = 0; kh < p.kH; ++kh) {
    const float* xr = xp + ((oh * p.sH + kh * p.dH) * p.Wp + ow * S) * kLanes;
    const float* wr = wb + kh * KW * kLanes;
    v16 x[L];
    for (int j = 0; j < L; ++j) x[j] = load16(xr + j * kLanes);
    for (int kw = 0; kw < KW; ++kw) {
      const v16 w = load16(wr + kw * kLanes);
      for (int r = 0; r < R; ++r) acc[r] += w * x[r * S + kw];
    }
  }
  for (int r = 0; r < R; ++r) o.store(oh * p.Wo + ow + r, acc[r]);
}

// One output row: 4 outputs at a time, the last 1-3 as one shorter group
// (7x7 and 14x14 outputs would otherwise leave 3 and 2 of every row to the
// generic per-point loop, 43% of a 7x7 layer's work).
template <int KW, int S, class O>
void row(const DepthwisePlan& p, const float* xp, const float* wb, v16 bias, const O& o, int64_t oh) {
  int64_t ow = 0;
  for (; ow + 4 <= p.Wo; ow += 4) outputs<KW, S, 4>(p, xp, wb, bias, o, oh, ow);
  switch (p.Wo - ow) {
    case 3:
      outputs<KW, S, 3>(p, xp, wb, bias, o, oh, ow);
      break;
    case 2:
      outputs<KW, S, 2>(p, xp, wb, bias, o, oh, ow);
      break;
    case 1:
      outputs<KW, S, 1>(p, xp, wb, bias, o, oh, ow);
      break;
    default:
      break;
  }
}

// Square KxK kernels without dilation (3x3 and 5x5: nearly every depthwise
// layer): the K*K weight vectors stay in registers for the whole row and R
// outputs share every input vector, loaded once and used by each tap that
// reads it. Per R outputs that is K * ((R-1)*S + K) loads for R*K*K
// multiply-adds (3x3, R = 8: 30 loads for 72) instead of a weight and an
// input load per multiply-add or two.
template <int K, int S, int R, class O>
inline void squareOutputs(const DepthwisePlan& p, const float* xp, const v16* w, v16 bias, const O& o, int64_t oh,
                          int64_t ow) {
  constexpr int L = (R - 1) * S + K;
  v16 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = bias;
  for (int kh = 0; kh < K; ++kh) {
    const float* xr = xp + ((oh * p.sH + kh) * p.Wp + ow * S) * kLanes;
#pragma GCC unroll 40
    for (int j = 0; j < L; ++j) {
      const v16 xj = load16(xr + j * kLanes);
#pragma GCC unroll 8
      for (int kw = 0; kw < K; ++kw) {
        const int d = j - kw;  // output r = d / S reads input j through tap kw
        if (d >= 0 && d % S == 0 && d / S < R) acc[d / S] += w[kh * K + kw] * xj;
      }
    }
  }
  for (int r = 0; r < R; ++r) o.store(oh * p.Wo + ow + r, acc[r]);
}

// The last n < R outputs of a row.
template <int K, int S, int R, class O>
inline void squareTail(const DepthwisePlan& p, const float* xp, const v16* w, v16 bias, const O& o, int64_t oh,
                       int64_t ow, int64_t n) {
  if constexpr (R > 0) {
    if (n == R) return squareOutputs<K, S, R>(p, xp, w, bias, o, oh, ow);
    squareTail<K, S, R - 1>(p, xp, w, bias, o, oh, ow, n);
  }
}

template <int K, int S, class O>
void squareRow(const DepthwisePlan& p, const float* xp, const float* wb, v16 bias, const O& o, int64_t oh) {
  constexpr int R = K == 3 ? 8 : 4;  // accumulators + K*K weights within 32 registers
  v16 w[K * K];
  for (int t = 0; t < K * K; ++t) w[t] = load16(wb + t * kLanes);
  int64_t ow = 0;
  for (; ow + R <= p.Wo; ow += R) squareOutputs<K, S, R>(p, xp, w, bias, o, oh, ow);
  squareTail<K, S, R - 1>(p, xp, w, bias, o, oh, ow, p.Wo - ow);
}

template <class O>
void genericRow(const DepthwisePlan& p, const float* xp, const float* wb, v16 bias, const O& o, int64_t oh) {
  for (int64_t ow = 0; ow < p.Wo; ++ow) o.store(oh * p.Wo + ow, onePoint(p, xp, wb, bias, oh, ow));
}

template <class O>
using RowFn = void (*)(const DepthwisePlan&, const float*, const float*, v16, const O&, int64_t);

template <class O>
RowFn<O> pickRow(const DepthwisePlan& p) {
  if (p.dW != 1) return genericRow<O>;
  if (p.dH == 1 && p.kH == p.kW) {
    if (p.kW == 3 && p.sW == 1) return squareRow<3, 1, O>;
    if (p.kW == 3 && p.sW == 2) return squareRow<3, 2, O>;
    if (p.kW == 5 && p.sW == 1) return squareRow<5, 1, O>;
    if (p.kW == 5 && p.sW == 2) return squareRow<5, 2, O>;
  }
  if (p.kW == 3 && p.sW == 1) return row<3, 1, O>;
  if (p.kW == 3 && p.sW == 2) return row<3, 2, O>;
  if (p.kW == 5 && p.sW == 1) return row<5, 1, O>;
  if (p.kW == 5 && p.sW == 2) return row<5, 2, O>;
  return genericRow<O>;
}

}  // namespace

void DepthwisePlan::init() {
  Hp = std::max(H + padT, (Ho - 1) * sH + (kH - 1) * dH + 1);
  Wp = std::max(W + padL, (Wo - 1) * sW + (kW - 1) * dW + 1);
}

void DepthwisePlan::pack(const float* w, const float* b) {
  const int64_t taps = kH * kW, blocks = (C + kLanes - 1) / kLanes;
  packed.assign(static_cast<size_t>(blocks * (taps + 1) * kLanes), 0.f);
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t t = 0; t < taps; ++t)
      packed[static_cast<size_t>(((c / kLanes) * taps + t) * kLanes + c % kLanes)] = w[c * taps + t];
    if (b) packed[static_cast<size_t>((blocks * taps + c / kLanes) * kLanes + c % kLanes)] = b[c];
  }
}

void DepthwisePlan::run(const float* x, float* y, float* scratch, const Activation* act, bool xNhwc, bool yNhwc) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  const int64_t taps = kH * kW, blocks = (C + kLanes - 1) / kLanes;
  float* xp = scratch;
  float* yt = scratch + kLanes * Hp * Wp;
  // Padding stays zero: only the interior is rewritten per block (lanes of a
  // partial last block hold zeros, computed and dropped), so only the border
  // is cleared (the whole padded plane is 57 KB at 28x28, more than L1).
  zeroShort(xp, kLanes * padT * Wp);
  for (int64_t h = padT; h < padT + H; ++h) {
    zeroShort(xp + h * Wp * kLanes, kLanes * padL);
    zeroShort(xp + (h * Wp + padL + W) * kLanes, kLanes * (Wp - padL - W));
  }
  zeroShort(xp + (padT + H) * Wp * kLanes, kLanes * (Hp - padT - H) * Wp);
  if (broadcast)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) store16(xp + ((h + padT) * Wp + w + padL) * kLanes, v16{} + x[h * W + w]);
  // Channels-last output is activated as stored; NCHW when transposed out.
  withActivation16(yNhwc ? *act : kNone, [&](auto activate) {
    using O = Out<decltype(activate)>;
    const RowFn<O> rowFn = pickRow<O>(*this);
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t c0 = blk * kLanes, nc = std::min<int64_t>(kLanes, C - c0);
      if (broadcast) {
        // xp already holds the image
      } else if (xNhwc) {
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            store16(xp + ((h + padT) * Wp + w + padL) * kLanes, load16(x + (h * W + w) * C + c0));
      } else {
        interleave(x, c0, nc, xp);
      }
      const float* wb = packed.data() + blk * taps * kLanes;
      const v16 bias = load16(packed.data() + (blocks * taps + blk) * kLanes);
      const O o{yNhwc ? y + c0 : yt, yNhwc ? C : kLanes, activate};
      for (int64_t oh = 0; oh < Ho; ++oh) rowFn(*this, xp, wb, bias, o, oh);
      if (!yNhwc) deinterleave(yt, c0, nc, y, *act);
    }
  });
}

void DepthwisePlan::interleave(const float* x, int64_t c0, int64_t nc, float* xp) const {
  // 16 pixels of the 16 channels at a time: one in-register transpose turns
  // 16 channel rows into 16 pixel vectors (element-wise copies cost more
  // than the convolution itself on 7x7 planes).
  const int64_t inPlane = H * W;
  const float* xb = x + c0 * inPlane;
  for (int64_t p0 = 0, h = 0, w = 0; p0 < inPlane; p0 += kLanes) {
    const int64_t cnt = std::min<int64_t>(kLanes, inPlane - p0);
    v16 r[kLanes];
    for (int64_t c = 0; c < kLanes; ++c) {
      if (c >= nc) {
        r[c] = v16{};
      } else if (cnt == kLanes) {
        r[c] = load16(xb + c * inPlane + p0);
      } else {  // the plane's last pixels: no read past them
        float tail[kLanes] = {};
        copyShort(xb + c * inPlane + p0, tail, cnt);
        r[c] = load16(tail);
      }
    }
    transpose16(r);
    for (int64_t k = 0; k < cnt; ++k) {
      store16(xp + ((h + padT) * Wp + w + padL) * kLanes, r[k]);
      if (++w == W) {
        w = 0;
        ++h;
      }
    }
  }
}

void DepthwisePlan::deinterleave(const float* yt, int64_t c0, int64_t nc, float* y, const Activation& act) const {
  // 16 pixel vectors into 16 channel rows, activated on the way.
  const int64_t outPlane = Ho * Wo;
  float* yb = y + c0 * outPlane;
  withActivation16(act, [&](auto activate) {
    for (int64_t i0 = 0; i0 < outPlane; i0 += kLanes) {
      const int64_t cnt = std::min<int64_t>(kLanes, outPlane - i0);
      v16 r[kLanes];
      for (int64_t k = 0; k < kLanes; ++k) r[k] = k < cnt ? load16(yt + (i0 + k) * kLanes) : v16{};
      transpose16(r);
      for (int64_t c = 0; c < nc; ++c) storePrefix(yb + c * outPlane + i0, activate(r[c]), cnt);
    }
  });
}

}  // namespace topiary::kernels
