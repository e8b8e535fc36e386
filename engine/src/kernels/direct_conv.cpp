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
  Hp = std::max(H + padT, (Ho - 1) * sH + (kH - 1) * dH + 1);
  Wp = std::max(W + padL, (Wo - 1) * sW + (kW - 1) * dW + 1);
  Hs = (Hp + sH - 1) / sH;
  Ws = (Wp + sW - 1) / sW;
  wide = (Ho * Ws + 15) / 16 * 16;
  const int64_t phase = Hs * Ws;
  shifts.clear();
  for (int64_t kh = 0; kh < kH; ++kh)
    for (int64_t kw = 0; kw < kW; ++kw) {
      const int64_t r = kh * dH, c = kw * dW;
      shifts.push_back(((r % sH) * sW + c % sW) * phase + (r / sH) * Ws + c / sW);
    }
  plane = sH * sW * phase;
  // Unpadded stride-1 input whose every read stays inside one channel plane
  // (1x1 convolutions, mostly) is read in place; output rows with no extra
  // columns and no rounding are written in place.
  inPlaceInput = sH == 1 && sW == 1 && padT == 0 && padL == 0 && Hp == H && Wp == W && wide - 1 + shifts.back() < H * W;
  if (inPlaceInput) plane = H * W;
  inPlaceOutput = Ws == Wo && wide == Ho * Wo;
}

void DirectConvPlan::packInto(const float* w, std::vector<float>& out) const {
  const int64_t taps = kH * kW, blocks = (cout + kBlock - 1) / kBlock;
  out.assign(static_cast<size_t>(blocks * cin * taps * kBlock), 0.f);
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t t = 0; t < taps; ++t)
        out[static_cast<size_t>((((co / kBlock) * cin + ci) * taps + t) * kBlock + co % kBlock)] =
            w[(co * cin + ci) * taps + t];
}

void DirectConvPlan::pack(const float* w) { packInto(w, packed); }

void DirectConvPlan::padInput(const float* x, float* buf) const {
  const int64_t phase = Hs * Ws;
  for (int64_t ci = 0; ci < cin; ++ci) {
    float* dst = buf + ci * plane;
    for (int64_t ih = 0; ih < H; ++ih) {
      const int64_t r = ih + padT;
      if (r >= Hp) break;
      const float* src = x + (ci * H + ih) * W;
      float* row = dst + (r % sH) * sW * phase + (r / sH) * Ws;
      const int64_t cols = std::min(W, Wp - padL);
      if (sW == 1) {
        copyShort(src, row + padL, cols);
        continue;
      }
      // Column c = iw + padL goes to phase c % sW at c / sW; both kept
      // incrementally (no division per element).
      int64_t pc = padL % sW, cc = padL / sW;
      for (int64_t iw = 0; iw < cols; ++iw) {
        row[pc * phase + cc] = src[iw];
        if (++pc == sW) {
          pc = 0;
          ++cc;
        }
      }
    }
  }
}

void DirectConvPlan::runPacked(const float* pack, const float* x, float* y, float* scratch, const float* b,
                               const Activation* act) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  const float* xin = x;
  float* ywide = inPlaceOutput ? y : scratch + cin * plane + wide + 16;
  if (!inPlaceInput) {
    // Reads run up to `wide` floats past the last plane (lanes that are dropped).
    std::fill(scratch, scratch + cin * plane + wide + 16, 0.f);
    padInput(x, scratch);
    xin = scratch;
  }
  const int64_t taps = kH * kW;
  for (int64_t co = 0; co < cout; co += kBlock) {
    const int count = static_cast<int>(std::min<int64_t>(kBlock, cout - co));
    kBlocks[count](*this, xin, pack + (co / kBlock) * cin * taps * kBlock, ywide + co * wide);
  }
  finish(ywide, y, b, act);
}

void DirectConvPlan::runSparse(const CsrMatrix& offsets, const float* x, float* y, float* scratch, const float* b,
                               const Activation* act) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  const float* xin = x;
  float* ywide = inPlaceOutput ? y : scratch + cin * plane + wide + 16;
  if (!inPlaceInput) {
    std::fill(scratch, scratch + cin * plane + wide + 16, 0.f);
    padInput(x, scratch);
    xin = scratch;
  }
  csrTimesDense(offsets, xin, wide, 1, ywide, wide, 0, cout);
  finish(ywide, y, b, act);
}

CsrMatrix DirectConvPlan::sparseOffsets(const float* w) const {
  const int64_t taps = kH * kW;
  CsrMatrix m = CsrMatrix::fromDense(w, cout, cin * taps);
  for (auto& c : m.colIndex) c = static_cast<int32_t>((c / taps) * plane + shifts[static_cast<size_t>(c % taps)]);
  return m;
}

void DirectConvPlan::finish(float* ywide, float* y, const float* b, const Activation* act) const {
  // Bias and activation over each whole wide plane (full vectors, extra
  // columns included), then the rows are compacted.
  for (int64_t co = 0; co < cout; ++co) {
    const float bias = b ? b[co] : 0.f;
    float* yw = ywide + co * wide;
    if (!act->none() || bias != 0.f) act->applyWithBias(yw, inPlaceOutput ? Ho * Wo : Ho * Ws, bias);
    if (!inPlaceOutput)
      for (int64_t oh = 0; oh < Ho; ++oh) copyShort(yw + oh * Ws, y + (co * Ho + oh) * Wo, Wo);
  }
}

}  // namespace topiary::kernels
