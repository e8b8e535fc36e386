#include "kernels/co_vector_conv.h"

#include <algorithm>
#include <array>
#include <utility>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kMaxV = 4;  // vectors of 16 output channels per block
// Pixels per tile for V vectors: R * V accumulators + V weights + 1 input fit the 32 registers.
constexpr int kMaxR[kMaxV + 1] = {0, 14, 14, 9, 7};

// R pixels (input columns x[0], x[S], ...) x 16V output channels into
// out[R][16V], summed over every input channel and tap.
template <int R, int V, int S>
void tile(const float* x, const CoVectorConvPlan& p, const float* wp, float* out) {
  v16 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = v16{};
  const int64_t plane = p.Hp * p.Wp, rowStep = p.dH * p.Wp;
  for (int64_t ci = 0; ci < p.cin; ++ci) {
    const float* xr = x + ci * plane;
    for (int64_t kh = 0; kh < p.kH; ++kh, xr += rowStep)
      for (int64_t kw = 0; kw < p.kW; ++kw, wp += 16 * V) {
        const float* xs = xr + kw * p.dW;
        v16 w[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) w[v] = load16(wp + 16 * v);
          // Fully unrolled (GCC does not at -O2), so the accumulators live in registers.
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const float xv = xs[r * S];
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[r][v] += xv * w[v];
        }
      }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store16(out + (r * V + v) * 16, acc[r][v]);
}

using TileFn = void (*)(const float*, const CoVectorConvPlan&, const float*, float*);

template <int V, int S, int... I>
constexpr auto tilesOf(std::integer_sequence<int, I...>) {
  return std::array<TileFn, sizeof...(I) + 1>{{nullptr, tile<I + 1, V, S>...}};
}

template <int S>
struct Tiles {
  static constexpr auto v1 = tilesOf<1, S>(std::make_integer_sequence<int, kMaxR[1]>{});
  static constexpr auto v2 = tilesOf<2, S>(std::make_integer_sequence<int, kMaxR[2]>{});
  static constexpr auto v3 = tilesOf<3, S>(std::make_integer_sequence<int, kMaxR[3]>{});
  static constexpr auto v4 = tilesOf<4, S>(std::make_integer_sequence<int, kMaxR[4]>{});
  static TileFn get(int v, int r) {
    switch (v) {
      case 1:
        return v1[static_cast<size_t>(r)];
      case 2:
        return v2[static_cast<size_t>(r)];
      case 3:
        return v3[static_cast<size_t>(r)];
      default:
        return v4[static_cast<size_t>(r)];
    }
  }
};

}  // namespace

void CoVectorConvPlan::init() {
  Hp = std::max(H + padT, (Ho - 1) * sH + (kH - 1) * dH + 1);
  Wp = std::max(W + padL, (Wo - 1) * sW + (kW - 1) * dW + 1);
  inPlaceInput = padT == 0 && padL == 0 && Hp == H && Wp == W;
}

void CoVectorConvPlan::pack(const float* w) {
  const int64_t taps = kH * kW;
  packed.assign(static_cast<size_t>((cout + 15) / 16 * 16 * cin * taps), 0.f);
  for (int64_t co = 0; co < cout; ++co) {
    const int64_t co0 = co / (16 * kMaxV) * (16 * kMaxV);
    const int64_t width = 16 * std::min<int64_t>(kMaxV, (cout - co0 + 15) / 16);
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int64_t t = 0; t < taps; ++t)
        packed[static_cast<size_t>(co0 * cin * taps + (ci * taps + t) * width + co - co0)] =
            w[(co * cin + ci) * taps + t];
  }
}

void CoVectorConvPlan::run(const float* x, float* y, float* scratch, const float* b, const Activation* act,
                           const float* r, int64_t oh0, int64_t oh1) const {
  if (oh1 < 0) oh1 = Ho;
  if (oh0 >= oh1) return;
  const float* xin = x;
  if (!inPlaceInput) {
    // Only the padded rows these output rows read.
    const int64_t p0 = oh0 * sH, p1 = std::min(Hp, (oh1 - 1) * sH + (kH - 1) * dH + 1);
    const int64_t cols = std::min(W, Wp - padL);
    for (int64_t ci = 0; ci < cin; ++ci) {
      zeroShort(scratch + (ci * Hp + p0) * Wp, (p1 - p0) * Wp);
      for (int64_t pr = std::max(p0, padT); pr < std::min(p1, padT + H); ++pr)
        copyShort(x + (ci * H + pr - padT) * W, scratch + (ci * Hp + pr) * Wp + padL, cols);
    }
    xin = scratch;
  }
  float* tmp = scratch + cin * Hp * Wp + 16;
  // The activation in registers, unless a residual must be added first (then per plane below).
  static const Activation kNone;
  const Activation* regAct = act && !r ? act : &kNone;
  const int64_t taps = kH * kW, outPlane = Ho * Wo;
  // The activation chosen once per call, not per stored vector.
  withActivation16(*regAct, [&](auto activate) {
    for (int64_t co0 = 0; co0 < cout; co0 += 16 * kMaxV) {
      const int V = static_cast<int>(std::min<int64_t>(kMaxV, (cout - co0 + 15) / 16));
      const int64_t nco = std::min<int64_t>(16 * V, cout - co0);
      const float* wp = packed.data() + co0 * cin * taps;
      // Each output row in equal runs of at most kMaxR[V] pixels.
      const int64_t runs = (Wo + kMaxR[V] - 1) / kMaxR[V];
      for (int64_t oh = oh0; oh < oh1; ++oh)
        for (int64_t k = 0, ow0 = 0; k < runs; ++k) {
          const int R = static_cast<int>(Wo / runs + (k < Wo % runs ? 1 : 0));
          const TileFn f = sW == 1 ? Tiles<1>::get(V, R) : Tiles<2>::get(V, R);
          f(xin + (oh * sH) * Wp + ow0 * sW, *this, wp, tmp);
          // Into NCHW: each 16-channel vector of the R pixels is transposed in
          // registers to 16 pixel runs. Whole-vector stores spill past the run
          // onto pixels of these rows written later; the rows' end is exact
          // (what follows is another plane, or rows of another thread).
          const bool whole = oh * Wo + ow0 + 16 <= oh1 * Wo;
          for (int v = 0; v < V; ++v) {
            v16 rows[16];
            for (int i = 0; i < 16; ++i) rows[i] = i < R ? load16(tmp + (i * V + v) * 16) : v16{};
            transpose16(rows);
            for (int64_t j = 0; j < 16 && 16 * v + j < nco; ++j) {
              const int64_t co = co0 + 16 * v + j;
              const v16 out = activate(rows[j] + (b ? b[co] : 0.f));
              float* yo = y + co * outPlane + oh * Wo + ow0;
              if (whole)
                store16(yo, out);
              else
                storePrefix(yo, out, R);
            }
          }
          ow0 += R;
        }
    }
  });
  if (!r) return;
  if (!act) act = &kNone;
  const int64_t first = oh0 * Wo, count = (oh1 - oh0) * Wo;
  for (int64_t co = 0; co < cout; ++co)
    act->applyWithResidual(y + co * outPlane + first, r + co * outPlane + first, count);
}

}  // namespace topiary::kernels
