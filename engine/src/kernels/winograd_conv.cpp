#include "kernels/winograd_conv.h"

#include <algorithm>

#include "kernels/activation.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

constexpr int kBlock = 8;    // output channels per packed block
constexpr int kChunk = 48;   // flattened tiles per product chunk (3 vectors)
constexpr int kXi = 16;      // transformed positions of a 4x4 tile

// M[xi][b][16*NV] = sum over ci of U[xi][ci][b] * V[xi][ci][q0 ..], for the
// B output channels of one block: B*NV accumulators stay in registers.
template <int B, int NV>
void product(const float* V, int64_t vStride, const float* U, int64_t cin, float* M) {
  for (int xi = 0; xi < kXi; ++xi) {
    v16 acc[NV][B];
    for (int v = 0; v < NV; ++v)
      for (int b = 0; b < B; ++b) acc[v][b] = v16{};
    const float* vp = V + xi * cin * vStride;
    const float* up = U + xi * cin * kBlock;
    for (int64_t ci = 0; ci < cin; ++ci, vp += vStride, up += kBlock) {
      v16 x[NV];
      for (int v = 0; v < NV; ++v) x[v] = load16(vp + 16 * v);
      for (int b = 0; b < B; ++b)
        for (int v = 0; v < NV; ++v) acc[v][b] += up[b] * x[v];
    }
    for (int b = 0; b < B; ++b)
      for (int v = 0; v < NV; ++v) store16(M + (xi * kBlock + b) * kChunk + 16 * v, acc[v][b]);
  }
}

using ProductFn = void (*)(const float*, int64_t, const float*, int64_t, float*);
template <int NV>
constexpr ProductFn kRow[kBlock + 1] = {nullptr,          product<1, NV>, product<2, NV>, product<3, NV>,
                                        product<4, NV>,   product<5, NV>, product<6, NV>, product<7, NV>,
                                        product<8, NV>};
const ProductFn* const kProducts[4] = {nullptr, kRow<1>, kRow<2>, kRow<3>};

}  // namespace

void WinogradPlan::init() {
  const int64_t th = (Ho + 1) / 2, tw = (Wo + 1) / 2;
  tiles = DirectConvPlan{};
  tiles.cin = cin;
  tiles.cout = 1;
  tiles.H = H;
  tiles.W = W;
  tiles.kH = tiles.kW = 4;
  tiles.sH = tiles.sW = 2;
  tiles.padT = padT;
  tiles.padL = padL;
  tiles.Ho = th;
  tiles.Wo = tw;
  tiles.init();
  // Images are stacked inside each phase plane (Hs*Ws floats apart), so
  // the flattened tiles of a pass run on across images; tiles past row th
  // or column tw of an image are computed and dropped.
  perImage = tiles.Hs * tiles.Ws;
  // Images per pass: a few hundred tiles, so short planes still fill the vectors.
  group = std::max<int64_t>(1, 256 / perImage);
}

void WinogradPlan::pack(const float* w) {
  const int64_t blocks = (cout + kBlock - 1) / kBlock;
  packed.assign(static_cast<size_t>(blocks * kXi * cin * kBlock), 0.f);
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* g = w + (co * cin + ci) * 9;
      // U = G g G^T with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
      float t[4][3];
      for (int c = 0; c < 3; ++c) {
        t[0][c] = g[c];
        t[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
        t[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
        t[3][c] = g[6 + c];
      }
      for (int r = 0; r < 4; ++r) {
        const float u[4] = {t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]), 0.5f * (t[r][0] - t[r][1] + t[r][2]),
                            t[r][2]};
        for (int c = 0; c < 4; ++c)
          packed[static_cast<size_t>((((co / kBlock) * kXi + r * 4 + c) * cin + ci) * kBlock + co % kBlock)] = u[c];
      }
    }
}

int64_t WinogradPlan::scratchFloats() const {
  return inputFloats() + kXi * cin * kChunk + kXi * kBlock * kChunk + 2 * cout * outRowFloats() + 64;
}

int64_t WinogradPlan::inputFloats() const {
  // Reads of the last vector run up to 16 tiles plus the largest shift past the end.
  return cin * 4 * phaseFloats() + tiles.Ws + 2 * kChunk;
}

void WinogradPlan::run(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act,
                       const float* r) const {
  const int64_t outN = cout * Ho * Wo;
  for (int64_t i = 0; i < n; i += group)
    pass(x + i * cin * H * W, std::min(group, n - i), y + i * outN, scratch, b, act, r ? r + i * outN : nullptr);
}

void WinogradPlan::pass(const float* x, int64_t n, float* y, float* scratch, const float* b,
                        const Activation* act, const float* res) const {
  static const Activation kNone;
  if (!act) act = &kNone;
  const int64_t phase = phaseFloats(), chan = 4 * phase, inFloats = inputFloats();
  float* xg = scratch;
  float* V = scratch + inFloats;
  float* M = V + kXi * cin * kChunk;
  // Output buffers, two rows per channel: tile q's outputs (0,0), (0,1) at
  // 2q, 2q+1 of the first, (1,0), (1,1) of the second. Tile row i of an
  // image thus holds output rows 2i and 2i+1, 2*Ws wide, written with
  // whole vectors and copied out row by row in compact().
  float* out = M + kXi * kBlock * kChunk;
  const int64_t rowN = outRowFloats();
  zeroShort(xg, inFloats);
  for (int64_t img = 0; img < n; ++img) tiles.padInput(x + img * cin * H * W, xg + img * perImage, chan, phase);
  // Tap (r, c) of a 4x4 input tile: phase plane (r % 2, c % 2), row r / 2, column c / 2.
  int64_t sh[16];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) sh[r * 4 + c] = ((r % 2) * 2 + c % 2) * phase + (r / 2) * tiles.Ws + c / 2;

  const int64_t total = n * perImage;
  // Relu in registers unless a residual comes first; the others per plane in compact().
  const bool relu = act->kind == Activation::Kind::Relu && !res;
  for (int64_t q0 = 0; q0 < total; q0 += kChunk) {
    const int nv = static_cast<int>(std::min<int64_t>(3, (total - q0 + 15) / 16));
    // Input transform V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
    // 16 tiles per vector, into V[xi][ci][48] for this chunk.
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int v = 0; v < nv; ++v) {
        const float* base = xg + ci * chan + q0 + 16 * v;
        v16 d[4][4];
        for (int r = 0; r < 4; ++r)
          for (int c = 0; c < 4; ++c) d[r][c] = load16(base + sh[r * 4 + c]);
        v16 t[4][4];
        for (int c = 0; c < 4; ++c) {
          t[0][c] = d[0][c] - d[2][c];
          t[1][c] = d[1][c] + d[2][c];
          t[2][c] = d[2][c] - d[1][c];
          t[3][c] = d[1][c] - d[3][c];
        }
        float* o = V + ci * kChunk + 16 * v;
        const int64_t step = cin * kChunk;
        for (int r = 0; r < 4; ++r) {
          store16(o + (4 * r) * step, t[r][0] - t[r][2]);
          store16(o + (4 * r + 1) * step, t[r][1] + t[r][2]);
          store16(o + (4 * r + 2) * step, t[r][2] - t[r][1]);
          store16(o + (4 * r + 3) * step, t[r][1] - t[r][3]);
        }
      }
    // Products per block of output channels, then the output transform
    // Y = A^T M A, A^T = [1 1 1 0; 0 1 -1 -1], while M is in cache.
    for (int64_t co0 = 0; co0 < cout; co0 += kBlock) {
      const int B = static_cast<int>(std::min<int64_t>(kBlock, cout - co0));
      kProducts[nv][B](V, kChunk, packed.data() + (co0 / kBlock) * kXi * cin * kBlock, cin, M);
      for (int bb = 0; bb < B; ++bb) {
        const float bias = b ? b[co0 + bb] : 0.f;
        for (int v = 0; v < nv; ++v) {
          v16 m[16];
          for (int xi = 0; xi < kXi; ++xi) m[xi] = load16(M + (xi * kBlock + bb) * kChunk + 16 * v);
          v16 s0[4], s1[4];
          for (int c = 0; c < 4; ++c) {
            s0[c] = m[c] + m[4 + c] + m[8 + c];
            s1[c] = m[4 + c] - m[8 + c] - m[12 + c];
          }
          v16 o[4] = {s0[0] + s0[1] + s0[2] + bias, s0[1] - s0[2] - s0[3] + bias, s1[0] + s1[1] + s1[2] + bias,
                      s1[1] - s1[2] - s1[3] + bias};
          if (relu) {
            for (auto& r : o) r = r > 0.f ? r : v16{};
          }
          float* e = out + (co0 + bb) * 2 * rowN + 2 * (q0 + 16 * v);
          v16 lo, hi;
          interleave(o[0], o[1], lo, hi);
          store16(e, lo);
          store16(e + 16, hi);
          interleave(o[2], o[3], lo, hi);
          store16(e + rowN, lo);
          store16(e + rowN + 16, hi);
        }
      }
    }
  }
  compact(out, n, y, *act, relu, res);
}

void WinogradPlan::compact(const float* out, int64_t n, float* y, const Activation& act, bool actDone,
                           const float* r) const {
  const int64_t plane = Ho * Wo, rowN = outRowFloats(), Ws = tiles.Ws;
  for (int64_t img = 0; img < n; ++img)
    for (int64_t co = 0; co < cout; ++co) {
      float* yc = y + (img * cout + co) * plane;
      const float* e = out + co * 2 * rowN + 2 * img * perImage;
      // Whole vectors while they stay inside this plane: lanes past a row
      // land on the rows that follow, written next. The plane's end is
      // copied exactly (the next plane may be another thread's).
      for (int64_t oh = 0; oh < Ho; ++oh) {
        const float* src = e + (oh % 2) * rowN + (oh / 2) * 2 * Ws;
        float* dst = yc + oh * Wo;
        int64_t k = 0;
        for (; k < Wo && oh * Wo + k + 16 <= plane; k += 16) store16(dst + k, load16(src + k));
        if (k < Wo) copyShort(src + k, dst + k, Wo - k);
      }
      if (r)
        act.applyWithResidual(yc, r + (img * cout + co) * plane, plane);
      else if (!actDone && !act.none())
        act.apply(yc, plane);
    }
}

}  // namespace topiary::kernels
