#include "kernels/pointwise_nhwc.h"

#include <algorithm>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kLanes = 16;
constexpr int kMaxChunk = 4;  // output vectors per chunk: 64 channels

// Output vectors of the chunk starting at vector v0.
int chunkWidth(int64_t vectors, int64_t v0) { return static_cast<int>(std::min<int64_t>(kMaxChunk, vectors - v0)); }

// R pixels x V output vectors: R * V accumulators (at most 24 of the 32
// AVX-512 registers), V weight loads and R broadcasts per input channel.
// Pixel r, input channel i of x is x[r * ps + i * cs].
// `act`: one activation's v16 -> v16 callable (withActivation16).
template <int V, int R, class A>
inline void tile(const float* w, const float* bias, const float* x, int64_t ps, int64_t cs, int64_t cin, float* y,
                 int64_t ys, const A& act) {
  v16 acc[R][V];
  for (int v = 0; v < V; ++v) {
    const v16 b = load16(bias + v * kLanes);
    for (int r = 0; r < R; ++r) acc[r][v] = b;
  }
  for (int64_t i = 0; i < cin; ++i) {
    v16 wv[V];
    for (int v = 0; v < V; ++v) wv[v] = load16(w + (i * V + v) * kLanes);
    for (int r = 0; r < R; ++r) {
      const float xs = x[r * ps + i * cs];
      for (int v = 0; v < V; ++v) acc[r][v] += wv[v] * xs;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) store16(y + r * ys + v * kLanes, act(acc[r][v]));
}

// One chunk of V output vectors over all P pixels: tiles of R, then single pixels.
template <int V, class A>
void chunk(const float* w, const float* bias, const float* x, int64_t ps, int64_t cs, int64_t cin, int64_t P, float* y,
           int64_t ys, const A& act) {
  constexpr int R = V == 4 ? 6 : V == 3 ? 8 : 12;
  int64_t p = 0;
  for (; p + R <= P; p += R) tile<V, R, A>(w, bias, x + p * ps, ps, cs, cin, y + p * ys, ys, act);
  for (; p < P; ++p) tile<V, 1, A>(w, bias, x + p * ps, ps, cs, cin, y + p * ys, ys, act);
}

}  // namespace

void PointwisePlan::pack(const float* w, const float* b) {
  const int64_t vectors = cout / kLanes;
  packed.assign(static_cast<size_t>(cin * cout + cout), 0.f);
  for (int64_t v0 = 0; v0 < vectors; v0 += kMaxChunk) {
    const int V = chunkWidth(vectors, v0);
    float* dst = packed.data() + cin * kLanes * v0;
    for (int64_t i = 0; i < cin; ++i)
      for (int64_t j = 0; j < V * kLanes; ++j) dst[i * V * kLanes + j] = w[(v0 * kLanes + j) * cin + i];
  }
  if (b) std::copy(b, b + cout, packed.begin() + cin * cout);
}

void PointwisePlan::run(const float* x, bool xNhwc, float* y, bool yNhwc, float* scratch, const Activation* act) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  const int64_t vectors = cout / kLanes, ps = xNhwc ? cin : 1, cs = xNhwc ? 1 : P;
  float* yt = yNhwc ? y : scratch;
  const float* bias = packed.data() + cin * cout;
  // The activation chosen once per call, not per stored vector.
  withActivation16(*act, [&](auto activate) {
    for (int64_t v0 = 0; v0 < vectors; v0 += kMaxChunk) {
      const float* w = packed.data() + cin * kLanes * v0;
      const float* b = bias + v0 * kLanes;
      float* yc = yt + v0 * kLanes;
      switch (chunkWidth(vectors, v0)) {
        case 4:
          chunk<4>(w, b, x, ps, cs, cin, P, yc, cout, activate);
          break;
        case 3:
          chunk<3>(w, b, x, ps, cs, cin, P, yc, cout, activate);
          break;
        case 2:
          chunk<2>(w, b, x, ps, cs, cin, P, yc, cout, activate);
          break;
        default:
          chunk<1>(w, b, x, ps, cs, cin, P, yc, cout, activate);
          break;
      }
    }
  });
  if (yNhwc) return;
  // A region's exit: [P, cout] -> [cout, P], 16x16 blocks through registers.
  for (int64_t c0 = 0; c0 < cout; c0 += kLanes)
    for (int64_t p0 = 0; p0 < P; p0 += kLanes) {
      const int64_t cnt = std::min<int64_t>(kLanes, P - p0);
      v16 r[kLanes];
      for (int64_t k = 0; k < kLanes; ++k) r[k] = k < cnt ? load16(yt + (p0 + k) * cout + c0) : v16{};
      transpose16(r);
      for (int64_t c = 0; c < kLanes; ++c) storePrefix(y + (c0 + c) * P + p0, r[c], cnt);
    }
}

}  // namespace topiary::kernels
