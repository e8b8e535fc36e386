// Conv's Winograd paths (kernels/winograd_conv.h F(2x2,3x3) and
// kernels/winograd43_conv.h F(4x4,3x3)) on a batch: the plan is rebuilt and
// the weights transformed only when the geometry changes (Conv takes this
// path with frozen weights only), and images are split over workers.
#pragma once

#include <algorithm>
#include <vector>

#include "ops/common.h"

namespace topiary::kernels {
struct Activation;
}

namespace topiary::ops {

// y = act(conv(x) + b + r) over N images. `want` carries the window's
// geometry (channels unset); `pl` is the plan kept between runs and
// `scratch` the caller's scratch, grown as needed.
template <class Plan>
void runWinograd(Plan& pl, Plan want, int64_t cin, int64_t cout, const float* w, const float* x, int64_t N, float* y,
                 const float* b, const kernels::Activation* act, const float* r, std::vector<float>& scratch,
                 int threads) {
  if (pl.packed.empty() || pl.cin != cin || pl.cout != cout || pl.H != want.H || pl.W != want.W ||
      pl.Ho != want.Ho || pl.Wo != want.Wo || pl.padT != want.padT || pl.padL != want.padL) {
    pl = std::move(want);
    pl.cin = cin;
    pl.cout = cout;
    pl.init();
    pl.pack(w);
  }
  const int64_t inN = cin * pl.H * pl.W, outN = cout * pl.Ho * pl.Wo, S = pl.scratchFloats();
  const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, N)));
  if (scratch.size() < static_cast<size_t>(T * S)) scratch.resize(static_cast<size_t>(T * S));
  parallelFor(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n0 = N * t / T, n1 = N * (t + 1) / T;
      pl.run(x + n0 * inN, n1 - n0, y + n0 * outN, scratch.data() + t * S, b, act, r ? r + n0 * outN : nullptr);
    }
  });
}

}  // namespace topiary::ops
