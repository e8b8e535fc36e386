#include "kernels/direct_conv.h"

#include <algorithm>
#include <cstring>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kBlock = 8;       // output channels per packed block
constexpr int64_t kChunk = 32;  // flattened outputs held in registers

// Output channels [b*8, b*8 + B) of one image over the wide plane.
template <int B>
void block(const DirectConvPlan& p, const float* xpad, const float* wpack, float* ywide) {
  const int64_t taps = p.kH * p.kW;
  const int64_t* shifts = p.shifts.data();
  int64_t o = 0;
  for (; o + kChunk <= p.wide; o += kChunk) {
    v16 acc0[B], acc1[B];
    for (int b = 0; b < B; ++b) acc0[b] = acc1[b] = v16{};
    const float* wp = wpack;
    for (int64_t ci = 0; ci < p.cin; ++ci) {
      const float* xc = xpad + ci * p.plane + o;
      for (int64_t t = 0; t < taps; ++t, wp += kBlock) {
        const float* xs = xc + shifts[t];
        const v16 x0 = load16(xs), x1 = load16(xs + 16);
        for (int b = 0; b < B; ++b) {
          acc0[b] += wp[b] * x0;
          acc1[b] += wp[b] * x1;
        }
      }
    }
    for (int b = 0; b < B; ++b) {
      store16(ywide + b * p.wide + o, acc0[b]);
      store16(ywide + b * p.wide + o + 16, acc1[b]);
    }
  }
  if (o < p.wide) {  // a last 16 (wide is a multiple of 16)
    v16 acc[B];
    for (int b = 0; b < B; ++b) acc[b] = v16{};
    const float* wp = wpack;
    for (int64_t ci = 0; ci < p.cin; ++ci) {
      const float* xc = xpad + ci * p.plane + o;
      for (int64_t t = 0; t < taps; ++t, wp += kBlock) {
        const v16 x0 = load16(xc + shifts[t]);
        for (int b = 0; b < B; ++b) acc[b] += wp[b] * x0;
      }
    }
    for (int b = 0; b < B; ++b) store16(ywide + b * p.wide + o, acc[b]);
  }
}

using BlockFn = void (*)(const DirectConvPlan&, const float*, const float*, float*);
const BlockFn kBlocks[kBlock + 1] = {nullptr,  block<1>, block<2>, block<3>, block<4>,
                                     block<5>, block<6>, block<7>, block<8>};

}  // namespace

void DirectConvPlan::init() {
  Hp = Ho + (kH - 1) * dH;
  Wp = std::max(W + padL, (Wo - 1) + (kW - 1) * dW + 1);
  wide = (Ho * Wp + 15) / 16 * 16;
  shifts.clear();
  for (int64_t kh = 0; kh < kH; ++kh)
    for (int64_t kw = 0; kw < kW; ++kw) shifts.push_back(kh * dH * Wp + kw * dW);
  plane = wide + shifts.back();
  plane = std::max(plane, Hp * Wp);
}

void DirectConvPlan::pack(const float* w) {
  const int64_t taps = kH * kW, blocks = (cout + kBlock - 1) / kBlock;
  packed.assign(static_cast<size_t>(blocks * cin * taps * kBlock), 0.f);
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t t = 0; t < taps; ++t)
        packed[static_cast<size_t>((((co / kBlock) * cin + ci) * taps + t) * kBlock + co % kBlock)] =
            w[(co * cin + ci) * taps + t];
}

void DirectConvPlan::run(const float* x, float* y, float* scratch, const float* b, const Activation* act) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  float* xpad = scratch;
  float* ywide = scratch + cin * plane;
  // Padded copy: rows of the input land at (ih + padT, padL); the rest is zero.
  std::fill(xpad, xpad + cin * plane, 0.f);
  const int64_t rows = std::min(H, Hp - padT);
  for (int64_t ci = 0; ci < cin; ++ci)
    for (int64_t ih = std::max<int64_t>(0, -padT); ih < rows; ++ih) {
      const int64_t cols = std::min(W, Wp - padL);
      copyShort(x + (ci * H + ih) * W, xpad + ci * plane + (ih + padT) * Wp + padL, cols);
    }
  const int64_t taps = kH * kW;
  for (int64_t co = 0; co < cout; co += kBlock) {
    const int b = static_cast<int>(std::min<int64_t>(kBlock, cout - co));
    kBlocks[b](*this, xpad, packed.data() + (co / kBlock) * cin * taps * kBlock, ywide + co * wide);
  }
  for (int64_t co = 0; co < cout; ++co) {
    const float bias = b ? b[co] : 0.f;
    for (int64_t oh = 0; oh < Ho; ++oh) {
      float* yr = y + (co * Ho + oh) * Wo;
      copyShort(ywide + co * wide + oh * Wp, yr, Wo);
      if (!act->none() || bias != 0.f) act->applyWithBias(yr, Wo, bias);
    }
  }
}

}  // namespace topiary::kernels
