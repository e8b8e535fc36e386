#include "kernels/winograd43_conv.h"

#include <algorithm>
#include <cstring>

#include "kernels/activation.h"
#include "kernels/shared_work.h"
#include "kernels/vec.h"
#include "kernels/winograd43_nm.h"

namespace topiary::kernels {

namespace {

constexpr int kBlock = Winograd43Plan::kBlock;
constexpr int kChunk = Winograd43Plan::kChunk;
constexpr int kXi = 36;  // transformed positions of a 6x6 tile
// Floats between the xi planes of V and M: one cache line more than the
// data, so the 36 planes a transform touches fall in different L1 sets
// (at 1 or 2 KB apart they shared 2-4 sets and evicted each other).
inline int64_t vStride(int64_t cin) { return cin * kChunk + 16; }
constexpr int64_t kMStride = kBlock * kChunk + 16;

// M[xi][b][16*NV] = sum over ci of U[xi][ci][b] * V[xi][ci][q0 ..], for the
// B output channels of one block: B*NV accumulators stay in registers.
template <int B, int NV>
void product(const float* V, const float* U, int64_t cin, float* M) {
  for (int xi = 0; xi < kXi; ++xi) {
    v16 acc[NV][B];
    for (int v = 0; v < NV; ++v)
      for (int b = 0; b < B; ++b) acc[v][b] = v16{};
    const float* vp = V + xi * vStride(cin);
    const float* up = U + xi * cin * kBlock;
    for (int64_t ci = 0; ci < cin; ++ci, vp += kChunk, up += kBlock) {
      v16 x[NV];
      for (int v = 0; v < NV; ++v) x[v] = load16(vp + 16 * v);
      for (int b = 0; b < B; ++b)
        for (int v = 0; v < NV; ++v) acc[v][b] += up[b] * x[v];
    }
    for (int b = 0; b < B; ++b)
      for (int v = 0; v < NV; ++v) store16(M + xi * kMStride + b * kChunk + 16 * v, acc[v][b]);
  }
}

using ProductFn = void (*)(const float*, const float*, int64_t, float*);
template <int NV>
constexpr ProductFn kRow[kBlock + 1] = {nullptr,        product<1, NV>, product<2, NV>, product<3, NV>, product<4, NV>,
                                        product<5, NV>, product<6, NV>, product<7, NV>, product<8, NV>};
const ProductFn* const kProducts[3] = {nullptr, kRow<1>, kRow<2>};

// t = B^T d for one column of six values, B^T =
// [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
// (14 operations, most of them fused multiply-adds).
inline void inputColumn(v16 d0, v16 d1, v16 d2, v16 d3, v16 d4, v16 d5, v16 t[6]) {
  const v16 s12 = d1 + d2, s34 = d4 + d3, m12 = d1 - d2, m34 = d4 - d3, m42 = d4 - d2, m31 = d3 - d1;
  t[0] = 4.f * d0 - 5.f * d2 + d4;
  t[1] = s34 - 4.f * s12;
  t[2] = m34 + 4.f * m12;
  t[3] = m42 + 2.f * m31;
  t[4] = m42 - 2.f * m31;
  t[5] = 4.f * d1 - 5.f * d3 + d5;
}

// o = A^T m for six values, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
inline void outputColumn(v16 m0, v16 m1, v16 m2, v16 m3, v16 m4, v16 m5, v16 o[4]) {
  const v16 s12 = m1 + m2, s34 = m3 + m4, d12 = m1 - m2, d34 = m3 - m4;
  o[0] = m0 + s12 + s34;
  o[1] = d12 + 2.f * d34;
  o[2] = s12 + 4.f * s34;
  o[3] = d12 + 8.f * d34 + m5;
}

}  // namespace

void Winograd43Plan::init() {
  th = (Ho + 3) / 4;
  tw = (Wo + 3) / 4;
  perImage = th * tw;
  // Images per pass: about 128 tiles (a few product chunks), and output
  // buffers that stay in L2.
  group = std::max<int64_t>(1, 128 / perImage);
}

int64_t Winograd43Plan::planeFloats() const {
  // Whole vectors written past the last tile row, then an odd number of
  // cache lines, so that the 36 planes of a tile fall in different L1 sets.
  int64_t n = (group * perImage + 15) / 16 * 16 + 16;
  if ((n / 16) % 2 == 0) n += 16;
  return n;
}

void Winograd43Plan::transformKernel(const float* g, float u[36]) {
  // U = G g G^T, G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
  // in double so that the packed weights carry only fp32 rounding.
  static const double G[6][3] = {{0.25, 0, 0},
                                 {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                 {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                 {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                 {0, 0, 1}};
  double t[6][3];  // G g
  for (int r = 0; r < 6; ++r)
    for (int c = 0; c < 3; ++c) t[r][c] = G[r][0] * g[c] + G[r][1] * g[3 + c] + G[r][2] * g[6 + c];
  for (int r = 0; r < 6; ++r)
    for (int c = 0; c < 6; ++c)
      u[r * 6 + c] = static_cast<float>(t[r][0] * G[c][0] + t[r][1] * G[c][1] + t[r][2] * G[c][2]);
}

void Winograd43Plan::pack(const float* w) {
  const int64_t blocks = (cout + kBlock - 1) / kBlock;
  packed.assign(static_cast<size_t>(blocks * kXi * cin * kBlock), 0.f);
  nmOffsets.clear();
  nmMasks.clear();
  nmSlots = 0;
  float u[kXi];
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t ci = 0; ci < cin; ++ci) {
      transformKernel(w + (co * cin + ci) * 9, u);
      for (int xi = 0; xi < kXi; ++xi)
        packed[static_cast<size_t>((((co / kBlock) * kXi + xi) * cin + ci) * kBlock + co % kBlock)] = u[xi];
    }
}

int64_t Winograd43Plan::scratchFloats() const {
  return inputFloats() + kXi * (cin * chunk + 16) + kXi * (kBlock * chunk + 16) + 4 * cout * outRowFloats() + 64;
}

void Winograd43Plan::run(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act,
                         const float* r) const {
  const int64_t outN = cout * Ho * Wo;
  for (int64_t i = 0; i < n; i += group)
    pass(x + i * cin * H * W, std::min(group, n - i), y + i * outN, scratch, b, act, r ? r + i * outN : nullptr, 0, th);
}

namespace {

typedef int32_t i16v __attribute__((vector_size(64)));

// The 16 floats x[off ..] with the lanes outside [lo, hi) cleared
// (bitwise); reads only inside x[0, n) (the input), through a local block
// near its ends. Offsets, not pointers, since off may be negative.
inline v16 loadRange(const float* x, int64_t n, int64_t off, int64_t lo, int64_t hi) {
  lo = std::max<int64_t>(lo, 0);
  hi = std::min<int64_t>(hi, 16);
  if (hi <= lo) return v16{};
  v16 v;
  if (off >= 0 && off + 16 <= n) {
    v = load16(x + off);
  } else {
    float tmp[16] = {};
    for (int64_t i = lo; i < hi; ++i) tmp[i] = x[off + i];
    v = load16(tmp);
  }
  const i16v iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const i16v keep = (iota >= static_cast<int32_t>(lo)) & (iota < static_cast<int32_t>(hi));
  return (v16)((i16v)v & keep);
}

// Lanes 1 .. 16 of the 32 floats a, b.
inline v16 nextLane(v16 a, v16 b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
#else
  return __builtin_shuffle(a, b, i16v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
#endif
}

// Tap column C of 16 tiles from the padded columns 0 .. 31 in a, b:
// lane j = column 4j + C (lanes past column 31 wrap around: they fall past
// the tile row and are overwritten).
#define TOPIARY_TAPS(C)                                                                                            \
  (C) & 31, (C + 4) & 31, (C + 8) & 31, (C + 12) & 31, (C + 16) & 31, (C + 20) & 31, (C + 24) & 31, (C + 28) & 31, \
      (C + 32) & 31, (C + 36) & 31, (C + 40) & 31, (C + 44) & 31, (C + 48) & 31, (C + 52) & 31, (C + 56) & 31,     \
      (C + 60) & 31
template <int C>
inline v16 tapColumn(v16 a, v16 b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, TOPIARY_TAPS(C));
#else
  return __builtin_shuffle(a, b, i16v{TOPIARY_TAPS(C)});
#endif
}
#undef TOPIARY_TAPS

// The first n <= 16 lanes of v at p, with a 4- or 8-lane store when that
// covers them (a full 16-lane store costs two on some cores).
inline void storeFirst(float* p, v16 v, int64_t n) {
  if (n <= 4)
    std::memcpy(p, &v, 4 * sizeof(float));
  else if (n <= 8)
    std::memcpy(p, &v, 8 * sizeof(float));
  else
    store16(p, v);
}

}  // namespace

// Not inlined into pass(): inlined it made pass() 5% slower (16x16 channels, 32x32).
[[gnu::noinline]] void Winograd43Plan::padImage(const float* x, float* dst, int64_t chan, int64_t plane, int64_t t0,
                                                int64_t t1) const {
  // Padded row R (input row R - padT) is tap row R % 4 of tile row R / 4
  // and, when R % 4 < 2, tap row R % 4 + 4 of tile row R / 4 - 1. It is
  // split by column modulo 4, 64 columns at a time: phase c (padded
  // columns 4j + c) is tap column c of tiles j, and phases 0 and 1 one lane
  // on are tap columns 4 and 5. Stores are whole vectors: lanes past a tile
  // row land on the next tile row of the same plane, written after it, or
  // on the plane's spare floats. Rows of padding are written as zeros.
  const int64_t xN = cin * H * W;
  const int64_t blocks = (4 * tw + 2 + 63) / 64;  // padded columns 0 .. 4*tw+1
  for (int64_t ci = 0; ci < cin; ++ci)
    for (int64_t R = 0; R < 4 * (t1 - t0) + 2; ++R) {  // padded row R + 4 * t0
      const int64_t ih = R + 4 * t0 - padT;
      const bool inside = ih >= 0 && ih < H;
      const int64_t row = (ci * H + ih) * W - padL;  // offset of padded column 0 (read only inside)
      float* uses[2];
      int nUses = 0;
      if (R / 4 < t1 - t0) uses[nUses++] = dst + ci * chan + (R % 4) * 6 * plane + (R / 4) * tw;
      if (R % 4 < 2 && R >= 4) uses[nUses++] = dst + ci * chan + (R % 4 + 4) * 6 * plane + (R / 4 - 1) * tw;
      auto split = [&](int64_t m, v16 p[4]) {
        if (!inside || m >= blocks) {
          for (int q = 0; q < 4; ++q) p[q] = v16{};
          return;
        }
        v16 v[4];
        for (int i = 0; i < 4; ++i) {
          const int64_t c0 = 64 * m + 16 * i;  // padded column of lane 0
          v[i] = loadRange(x, xN, row + c0, padL - c0, padL + W - c0);
        }
        v16 e0, o0, e1, o1;
        deinterleave(v[0], v[1], e0, o0);
        deinterleave(v[2], v[3], e1, o1);
        deinterleave(e0, e1, p[0], p[2]);
        deinterleave(o0, o1, p[1], p[3]);
      };
      if (4 * tw + 2 <= 32) {
        // Up to 7 tiles a row (outputs up to 28 wide): the 32 padded
        // columns in two vectors, each tap column one permutation of them.
        const v16 a = inside ? loadRange(x, xN, row, padL, padL + W) : v16{};
        const v16 b = inside ? loadRange(x, xN, row + 16, padL - 16, padL + W - 16) : v16{};
        const v16 t[6] = {tapColumn<0>(a, b), tapColumn<1>(a, b), tapColumn<2>(a, b),
                          tapColumn<3>(a, b), tapColumn<4>(a, b), tapColumn<5>(a, b)};
        for (int u = 0; u < nUses; ++u)
          for (int c = 0; c < 6; ++c) storeFirst(uses[u] + c * plane, t[c], tw);
        continue;
      }
      v16 cur[4], next[4];
      split(0, cur);
      for (int64_t m = 0; m < blocks; ++m) {
        split(m + 1, next);
        const v16 four = nextLane(cur[0], next[0]), five = nextLane(cur[1], next[1]);
        for (int u = 0; u < nUses; ++u) {
          float* d = uses[u] + 16 * m;
          for (int c = 0; c < 4; ++c) store16(d + c * plane, cur[c]);
          store16(d + 4 * plane, four);
          store16(d + 5 * plane, five);
        }
        for (int q = 0; q < 4; ++q) cur[q] = next[q];
      }
    }
}

void Winograd43Plan::pass(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act,
                          const float* res, int64_t t0, int64_t t1, int64_t c0, int64_t c1) const {
  if (c1 < 0) c1 = cout;
  static const Activation kNone;
  if (!act) act = &kNone;
  const int64_t plane = planeFloats(), chan = 36 * plane;
  float* xg = scratch;
  float* V = xg + inputFloats();
  // Tiles per product chunk: kChunk (dense products), or the nm plan's.
  const int64_t ch = chunk, vStep = cin * ch + 16, mStep = kBlock * ch + 16;
  float* M = V + kXi * vStep;
  // Output buffers, four rows per channel: output (r, c) of tile q at
  // 4q + c of row r. Tile row i of an image thus holds output rows 4i ..
  // 4i+3, 4*tw wide, written with whole vectors and copied out row by row
  // in compact().
  float* out = M + kXi * mStep;
  const int64_t rowN = outRowFloats();
  // The last vectors of a pass read up to 15 tiles past its images: whatever
  // is there only reaches outputs that are dropped.
  for (int64_t img = 0; img < n; ++img) padImage(x + img * cin * H * W, xg + img * perImage, chan, plane, t0, t1);

  const int64_t total = n * (t1 - t0) * tw;
  // Relu in registers unless a residual comes first; the others per plane in compact().
  const bool relu = act->kind == Activation::Kind::Relu && !res;
  for (int64_t q0 = 0; q0 < total; q0 += ch) {
    const int nv = static_cast<int>(std::min<int64_t>(ch / 16, (total - q0 + 15) / 16));
    // Input transform V = B^T d B, 16 tiles per vector, into V[xi][ci][kChunk].
    const int64_t step = vStep;
    for (int64_t ci = 0; ci < cin; ++ci)
      for (int v = 0; v < nv; ++v) {
        const float* base = xg + ci * chan + q0 + 16 * v;
        v16 t[6][6];  // t[.][c] = B^T d[.][c]
        for (int c = 0; c < 6; ++c) {
          v16 col[6];
          inputColumn(load16(base + c * plane), load16(base + (6 + c) * plane), load16(base + (12 + c) * plane),
                      load16(base + (18 + c) * plane), load16(base + (24 + c) * plane), load16(base + (30 + c) * plane),
                      col);
          for (int r = 0; r < 6; ++r) t[r][c] = col[r];
        }
        float* o = V + ci * ch + 16 * v;
        for (int r = 0; r < 6; ++r) {
          v16 u[6];
          inputColumn(t[r][0], t[r][1], t[r][2], t[r][3], t[r][4], t[r][5], u);
          for (int c = 0; c < 6; ++c) store16(o + (6 * r + c) * step, u[c]);
        }
      }
    // Products per block of output channels, then the output transform
    // Y = A^T M A while M is in cache.
    for (int64_t co0 = c0; co0 < c1; co0 += kBlock) {
      const int B = static_cast<int>(std::min<int64_t>(kBlock, c1 - co0));
      if (nmSlots > 0) {  // kernel-wise 2:4 weights (kernels/winograd43_nm.h)
        const int32_t* start = nmOffsets.data() + co0 / kBlock;
        winograd43NmProduct(nv, V, vStep, cin, nmMasks.data() + (co0 / kBlock) * cin, packed.data() + start[0],
                            (start[1] - start[0]) / kXi, M, mStep, ch);
      } else {
        kProducts[nv][B](V, packed.data() + (co0 / kBlock) * kXi * cin * kBlock, cin, M);
      }
      for (int bb = 0; bb < B; ++bb) {
        const float bias = b ? b[co0 + bb] : 0.f;
        for (int v = 0; v < nv; ++v) {
          const float* m = M + bb * ch + 16 * v;
          v16 s[4][6];  // s[.][c] = A^T m[.][c]
          for (int c = 0; c < 6; ++c) {
            v16 col[4];
            outputColumn(load16(m + c * mStep), load16(m + (6 + c) * mStep), load16(m + (12 + c) * mStep),
                         load16(m + (18 + c) * mStep), load16(m + (24 + c) * mStep), load16(m + (30 + c) * mStep), col);
            for (int r = 0; r < 4; ++r) s[r][c] = col[r];
          }
          float* e = out + (co0 + bb) * 4 * rowN + 4 * (q0 + 16 * v);
          for (int r = 0; r < 4; ++r) {
            v16 o[4];
            outputColumn(s[r][0], s[r][1], s[r][2], s[r][3], s[r][4], s[r][5], o);
            for (auto& z : o) {
              z += bias;
              if (relu) z = z > 0.f ? z : v16{};
            }
            // Tile-major order: o[0][q] o[1][q] o[2][q] o[3][q] for q = 0 .. 15.
            v16 a0, a1, b0, b1, w0, w1, w2, w3;
            interleave(o[0], o[2], a0, a1);
            interleave(o[1], o[3], b0, b1);
            interleave(a0, b0, w0, w1);
            interleave(a1, b1, w2, w3);
            float* er = e + r * rowN;
            store16(er, w0);
            store16(er + 16, w1);
            store16(er + 32, w2);
            store16(er + 48, w3);
          }
        }
      }
    }
  }
  compact(out, n, y, *act, relu, res, t0, t1, c0, c1);
}

bool Winograd43Plan::stripes() const {
  // Two stripes of tile rows cost no more vectors of 16 tiles than the whole
  // image (28x28: 21 + 28 tiles, 32x32: 32 + 32): each thread then does all
  // the work of its stripe, and nothing crosses between the cores' caches
  // (splitting channels instead moved the transformed input across and
  // gained 5-10% at 16 channels).
  const int64_t top = th / 2 * tw;
  auto vectors = [](int64_t t) { return (t + 15) / 16; };
  return th >= 2 && vectors(top) + vectors(perImage - top) <= vectors(perImage);
}

int64_t Winograd43Plan::channelSplit() const { return cout / kBlock / 2 * kBlock; }

bool Winograd43Plan::sharable() const { return stripes() || channelSplit() > 0; }

void Winograd43Plan::runOneShared(const float* x, float* y, float* scratch, const float* b, const Activation* act,
                                  const float* r) const {
  const int64_t S = scratchFloats();
  if (stripes())
    return runShared(2, [&](int64_t i, int slot) {
      pass(x, 1, y, scratch + slot * S, b, act, r, i == 0 ? 0 : th / 2, i == 0 ? th / 2 : th);
    });
  // Too few tiles for two stripes (14x14 and smaller: one vector of 16
  // tiles): both pieces transform the whole input, each then does the
  // products and output transforms of half the output channels. The input
  // transform is done twice, but nothing crosses between the cores' caches.
  const int64_t half = channelSplit();
  runShared(2, [&](int64_t i, int slot) {
    pass(x, 1, y, scratch + slot * S, b, act, r, 0, th, i == 0 ? 0 : half, i == 0 ? half : cout);
  });
}

void Winograd43Plan::compact(const float* out, int64_t n, float* y, const Activation& act, bool actDone, const float* r,
                             int64_t t0, int64_t t1, int64_t c0, int64_t c1) const {
  const int64_t plane = Ho * Wo, rowN = outRowFloats(), oh0 = 4 * t0, oh1 = std::min(Ho, 4 * t1);
  for (int64_t img = 0; img < n; ++img)
    for (int64_t co = c0; co < c1; ++co) {
      float* yc = y + (img * cout + co) * plane;
      const float* e = out + co * 4 * rowN + 4 * img * perImage;
      // Whole vectors while they stay inside this plane's rows oh0 .. oh1:
      // lanes past a row land on the rows that follow, written next. The
      // end is copied exactly (the next plane or stripe may be another
      // thread's).
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        const float* src = e + (oh % 4) * rowN + (oh / 4 - t0) * 4 * tw;
        float* dst = yc + oh * Wo;
        int64_t k = 0;
        for (; k < Wo && oh * Wo + k + 16 <= oh1 * Wo; k += 16) store16(dst + k, load16(src + k));
        if (k < Wo) copyShort(src + k, dst + k, Wo - k);
      }
      const int64_t from = oh0 * Wo, count = (oh1 - oh0) * Wo;
      if (r)
        act.applyWithResidual(yc + from, r + (img * cout + co) * plane + from, count);
      else if (!actDone && !act.none())
        act.apply(yc + from, count);
    }
}

}  // namespace topiary::kernels
