// Conv's Winograd paths (kernels/winograd_conv.h F(2x2,3x3) and
// kernels/winograd43_conv.h F(4x4,3x3)) on a batch: the plan is rebuilt and
// the weights transformed only when the geometry changes (Conv takes this
// path with frozen weights only), and images are split over workers.
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/shared_work.h"
#include "kernels/winograd43_conv.h"
#include "ops/common.h"

namespace topiary::kernels {
struct Activation;
}

namespace topiary::ops {

// y = act(conv(x) + b + r) over N images. `want` carries the window's
// geometry (channels unset); `pl` is the plan kept between runs and
// `scratch` the caller's scratch, grown as needed. F(4x4, 3x3) shares one
// image with a helper thread (Winograd43Plan::runOneShared: two stripes of
// tile rows, 28 to 32 wide, or two halves of the output channels) when the run has `rawThreads` > 1 and the
// layer kSharedMinFlops of work (as co-vector).
template <class Plan>
void runWinograd(Plan& pl, Plan want, int64_t cin, int64_t cout, const float* w, const float* x, int64_t N, float* y,
                 const float* b, const kernels::Activation* act, const float* r, std::vector<float>& scratch,
                 int threads, int rawThreads = 1) {
  if (pl.packed.empty() || pl.cin != cin || pl.cout != cout || pl.H != want.H || pl.W != want.W || pl.Ho != want.Ho ||
      pl.Wo != want.Wo || pl.padT != want.padT || pl.padL != want.padL) {
    pl = std::move(want);
    pl.cin = cin;
    pl.cout = cout;
    pl.init();
    pl.pack(w);
  }
  if constexpr (std::is_base_of_v<kernels::Winograd43Plan, Plan>) {
    if (N == 1 && rawThreads > 1 && 2.0 * cout * cin * 9 * pl.Ho * pl.Wo >= kernels::kSharedMinFlops && pl.sharable()) {
      const int64_t S = kernels::kSharedSlots * pl.scratchFloats();
      if (scratch.size() < static_cast<size_t>(S)) scratch.resize(static_cast<size_t>(S));
      return pl.runOneShared(x, y, scratch.data(), b, act, r);
    }
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
