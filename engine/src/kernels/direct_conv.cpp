#include "kernels/direct_conv.h"

#include <algorithm>
#include <cstring>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kBlock = 8;  // output channels per packed block

// Outputs [o, o + 16*V) of output channels [b*8, b*8 + B): B*V
// accumulators stay in registers over every input channel and tap.
// With `act` (output written in place), bias and activation are applied in
// registers before the store: no second pass over the output.
// `pitch` floats between output channels, of which the first `limit` are
// written (a clipped last vector when the output goes straight to y).
template <int B, int V>
inline void chunk(const DirectConvPlan& p, const float* xpad, const float* wpack, float* ywide, int64_t o,
                  int64_t pitch, int64_t limit, const float* bias, const Activation* act) {
  const int64_t taps = p.kH * p.kW;
  const int64_t* shifts = p.shifts.data();
  v16 acc[V][B];
  for (int v = 0; v < V; ++v)
    for (int b = 0; b < B; ++b) acc[v][b] = v16{};
  const float* wp = wpack;
  for (int64_t ci = 0; ci < p.cin; ++ci) {
    const float* xc = xpad + ci * p.plane + o;
    for (int64_t t = 0; t < taps; ++t, wp += kBlock) {
      const float* xs = xc + shifts[t];
      v16 x[V];
      for (int v = 0; v < V; ++v) x[v] = load16(xs + 16 * v);
      for (int b = 0; b < B; ++b)
        for (int v = 0; v < V; ++v) acc[v][b] += wp[b] * x[v];
    }
  }
  if (act) {
    for (int b = 0; b < B; ++b) {
      const float bb = bias ? bias[b] : 0.f;
      for (int v = 0; v < V; ++v) {
        const int64_t at = o + 16 * v;
        const v16 out = activate16(*act, acc[v][b] + bb);
        if (at + 16 <= limit) {
          store16(ywide + b * pitch + at, out);
        } else if (at < limit) {  // the channel's last values: the rest belongs to the next channel
          storePrefix(ywide + b * pitch + at, out, limit - at);
        }
      }
    }
    return;
  }
  for (int b = 0; b < B; ++b)
    for (int v = 0; v < V; ++v) store16(ywide + b * pitch + o + 16 * v, acc[v][b]);
}

// Output channels [b*8, b*8 + B) of one image over the wide plane, 48
// outputs at a time (24 accumulators + 3 inputs + 1 weight fit the 32
// AVX-512 registers), then the last 16 or 32.
template <int B>
void block(const DirectConvPlan& p, const float* xpad, const float* wpack, float* ywide, int64_t pitch, int64_t limit,
           const float* bias, const Activation* act) {
  int64_t o = 0;
  // A lone 16 at the end is poor (one input load per B weights): end on
  // 32 + 32 instead of 48 + 16.
  const int64_t tail = p.wide % 48 == 16 && p.wide >= 64 ? 64 : 0;
  for (; o + 48 <= p.wide - tail; o += 48) chunk<B, 3>(p, xpad, wpack, ywide, o, pitch, limit, bias, act);
  for (; tail && o + 32 <= p.wide; o += 32) chunk<B, 2>(p, xpad, wpack, ywide, o, pitch, limit, bias, act);
  if (o + 32 <= p.wide) chunk<B, 2>(p, xpad, wpack, ywide, o, pitch, limit, bias, act), o += 32;
  if (o < p.wide) chunk<B, 1>(p, xpad, wpack, ywide, o, pitch, limit, bias, act);
}

using BlockFn = void (*)(const DirectConvPlan&, const float*, const float*, float*, int64_t, int64_t, const float*,
                         const Activation*);
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
  onlyPhase = -1;
  bool several = false;
  for (int64_t kh = 0; kh < kH; ++kh)
    for (int64_t kw = 0; kw < kW; ++kw) {
      const int64_t ph = (kh * dH % sH) * sW + kw * dW % sW;
      if (onlyPhase < 0) onlyPhase = ph;
      several = several || ph != onlyPhase;
    }
  if (several) onlyPhase = -1;
  phases = onlyPhase < 0 ? sH * sW : 1;
  shifts.clear();
  for (int64_t kh = 0; kh < kH; ++kh)
    for (int64_t kw = 0; kw < kW; ++kw) {
      const int64_t r = kh * dH, c = kw * dW;
      shifts.push_back(phaseSlot(r % sH, c % sW) * phase + (r / sH) * Ws + c / sW);
    }
  plane = phases * phase;
  // Unpadded stride-1 input whose every read stays inside one channel plane
  // (1x1 convolutions, mostly) is read in place; output rows with no extra
  // columns and no rounding are written in place.
  inPlaceInput = sH == 1 && sW == 1 && padT == 0 && padL == 0 && Hp == H && Wp == W && wide - 1 + shifts.back() < H * W;
  if (inPlaceInput) plane = H * W;
  inPlaceOutput = Ws == Wo && wide == Ho * Wo;
  writeThrough = Ws == Wo;
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

void DirectConvPlan::padInput(const float* x, float* buf) const { padInput(x, buf, plane, Hs * Ws); }

void DirectConvPlan::padInput(const float* x, float* buf, int64_t channelStride, int64_t phase, int64_t ih0,
                              int64_t ih1) const {
  const int64_t cols = std::min(W, Wp - padL), rows = ih1 < 0 ? std::min(H, Hp - padT) : std::min({H, Hp - padT, ih1});
  const int64_t first = std::max<int64_t>(0, ih0);
  if (sW > 2) {
    // Column c = iw + padL goes to phase c % sW at c / sW; both kept
    // incrementally (no division per element).
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t ih = first; ih < rows; ++ih) {
        const int64_t r = ih + padT;
        if (onlyPhase >= 0 && r % sH != onlyPhase / sW) continue;
        const float* src = x + (ci * H + ih) * W;
        float* row = buf + ci * channelStride + (r / sH) * Ws;
        int64_t pc = padL % sW, cc = padL / sW;
        for (int64_t iw = 0; iw < cols; ++iw) {
          const int64_t slot = phaseSlot(r % sH, pc);
          if (slot >= 0) row[slot * phase + cc] = src[iw];
          if (++pc == sW) {
            pc = 0;
            ++cc;
          }
        }
      }
    return;
  }
  // Phase by phase, every channel's rows of it in order. What a phase
  // copies does not depend on the channel, so its divisions are done once
  // per phase (per channel and phase they were over a tenth of this copy's time).
  for (int64_t pr = 0; pr < sH; ++pr)
    for (int64_t pc = 0; pc < sW; ++pc) {
      const int64_t slot = phaseSlot(pr, pc);
      if (slot < 0) continue;  // no tap reads this phase
      // first row from `first` with (ih + padT) % sH == pr
      const int64_t ihp = first + ((pr - padT - first) % sH + sH) % sH;
      const int64_t iw0 = ((pc - padL) % sW + sW) % sW;  // first column with (iw + padL) % sW == pc
      if (iw0 >= cols || ihp >= rows) continue;
      const int64_t n = sW == 1 ? cols : (cols - iw0 + 1) / 2;
      const int64_t to = slot * phase + ((ihp + padT) / sH) * Ws + (iw0 + padL) / sW;
      for (int64_t ci = 0; ci < cin; ++ci) {
        // One phase row per sH input rows, pointers advanced (no division).
        const float* src = x + (ci * H + ihp) * W + iw0;
        float* row = buf + ci * channelStride + to;
        for (int64_t ih = ihp; ih < rows; ih += sH, src += sH * W, row += Ws) {
          if (sW == 1)
            copyShort(src, row, n);
          else
            copyStride2(src, row, n);
        }
      }
    }
}

void DirectConvPlan::runPacked(const float* pack, const float* x, float* y, float* scratch, const float* b,
                               const Activation* act, const float* r) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  const float* xin = paddedInput(x, scratch);
  float* ywide = writeThrough ? y : scratch + cin * plane + wide + 16;
  const int64_t taps = kH * kW;
  // An output written straight to y gets bias and activation in the
  // kernel's registers (finish() would be a second pass over it, which cost
  // 5-6% of mobilenet-tiny's time on its 28x28 pointwise layer); a wide
  // output is finished while it is compacted. A residual comes before the
  // activation, so with one the registers get the bias only and a pass
  // over this image's output adds the residual and activates.
  const int64_t pitch = writeThrough ? Ho * Wo : wide;
  for (int64_t co = 0; co < cout; co += kBlock) {
    const int count = static_cast<int>(std::min<int64_t>(kBlock, cout - co));
    kBlocks[count](*this, xin, pack + (co / kBlock) * cin * taps * kBlock, ywide + co * pitch, pitch, pitch,
                   writeThrough && b ? b + co : nullptr, writeThrough ? (r ? &kNone : act) : nullptr);
  }
  if (!writeThrough)
    finish(ywide, y, b, act, 0, -1, r);
  else if (r)
    act->applyWithResidual(y, r, cout * Ho * Wo);
}

void DirectConvPlan::runSparse(const CsrMatrix& offsets, const float* x, float* y, float* scratch, const float* b,
                               const Activation* act, const float* r) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  const int64_t P = Ho * Wo;
  if (writeThrough) {
    // Rows with no extra columns (1x1, stride 1 or 2): the product's rows
    // are y's, so nothing is compacted (on resnet8's 7x7 projection the
    // compaction took a third of the layer's time).
    csrTimesDense(offsets, paddedInput(x, scratch), P, 1, y, P, 0, cout);
    for (int64_t co = 0; co < cout; ++co) {
      const float bias = b ? b[co] : 0.f;
      if (r)
        act->applyWithResidual(y + co * P, r + co * P, P, bias);
      else if (!act->none() || bias != 0.f)
        act->applyWithBias(y + co * P, P, bias);
    }
    return;
  }
  runWide(
      x, y, scratch, b, act,
      [&](const float* xin, float* ywide, int64_t, int64_t) {
        csrTimesDense(offsets, xin, wide, 1, ywide, wide, 0, cout);
      },
      r);
}

CsrMatrix DirectConvPlan::sparseOffsets(const float* w) const {
  const int64_t taps = kH * kW;
  CsrMatrix m = CsrMatrix::fromDense(w, cout, cin * taps);
  for (auto& c : m.colIndex) c = static_cast<int32_t>((c / taps) * plane + shifts[static_cast<size_t>(c % taps)]);
  return m;
}

const float* DirectConvPlan::paddedInput(const float* x, float* scratch) const {
  if (inPlaceInput) return x;
  std::fill(scratch, scratch + cin * plane + wide + 16, 0.f);
  padInput(x, scratch);
  return scratch;
}

void DirectConvPlan::phaseRows(int64_t oh0, int64_t oh1, int64_t& q0, int64_t& q1) const {
  q0 = std::min(oh0, Hs);
  q1 = std::min(Hs, oh1 + (kH - 1) * dH / sH);
}

const float* DirectConvPlan::paddedInputRows(const float* x, float* scratch, int64_t oh0, int64_t oh1) const {
  if (inPlaceInput) return x;
  int64_t q0 = 0, q1 = 0;
  phaseRows(oh0, oh1, q0, q1);
  // Zero those phase rows of every phase plane, then copy the input rows
  // that land in them (padded row r is phase row r / sH).
  for (int64_t ci = 0; ci < cin; ++ci)
    for (int64_t ph = 0; ph < phases; ++ph) {
      float* rows = scratch + ci * plane + ph * Hs * Ws + q0 * Ws;
      std::fill(rows, rows + (q1 - q0) * Ws, 0.f);
    }
  padInput(x, scratch, plane, Hs * Ws, q0 * sH - padT, q1 * sH - padT);
  return scratch;
}

void DirectConvPlan::finish(float* ywide, float* y, const float* b, const Activation* act, int64_t oh0, int64_t oh1,
                            const float* r) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  if (oh1 < 0) oh1 = Ho;
  withActivation16(*act, [&](auto activate) {
    for (int64_t co = 0; co < cout; ++co) {
      const float bias = b ? b[co] : 0.f;
      float* yw = ywide + co * wide;
      if (ywide == y) {  // inPlaceOutput: channels Ho * Wo apart in both
        if (r)
          act->applyWithResidual(yw + oh0 * Wo, r + co * Ho * Wo + oh0 * Wo, (oh1 - oh0) * Wo, bias);
        else if (!act->none() || bias != 0.f)
          act->applyWithBias(yw + oh0 * Wo, (oh1 - oh0) * Wo, bias);
        continue;
      }
      // Rows compacted with bias and activation on the way. Whole vectors
      // where the 16 lanes stay inside this channel (output and wide plane):
      // lanes past a row land on the next rows, written right after. Near the
      // channel's end the rest is copied exactly, since what follows may
      // belong to another thread.
      // The residual, if any, is read at the same offsets as y is written.
      float* yc = y + co * Ho * Wo;
      const float* rc = r ? r + co * Ho * Wo : nullptr;
      const int64_t end = oh1 * Wo;
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        int64_t k = 0;
        for (; k < Wo && oh * Wo + k + 16 <= end && oh * Ws + k + 16 <= wide; k += 16) {
          const v16 v = load16(yw + oh * Ws + k) + bias;
          store16(yc + oh * Wo + k, activate(rc ? v + load16(rc + oh * Wo + k) : v));
        }
        if (k < Wo) {  // reads up to 15 floats past the wide plane (scratchFloats() has them)
          const v16 v = load16(yw + oh * Ws + k) + bias;
          storePrefix(yc + oh * Wo + k, activate(rc ? v + loadPrefix(rc + oh * Wo + k, Wo - k) : v), Wo - k);
        }
      }
    }
  });
}

}  // namespace topiary::kernels
