// Sliding-window geometry shared by Conv, ConvTranspose and the pools:
// kernel_shape / strides / dilations / pads / auto_pad / ceil_mode parsed
// once from a node, then resolved against an input's spatial size. Windows
// of 1-, 2- and 3-D are all carried as 3-D (missing leading axes have size 1,
// kernel 1, stride 1, no padding), so every kernel has one loop nest.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary::ops {

enum class AutoPad { NotSet, SameUpper, SameLower, Valid };

struct WindowAttrs {
  std::vector<int64_t> kernel;     // empty: taken from the weight (Conv)
  std::vector<int64_t> strides;    // empty: all 1
  std::vector<int64_t> dilations;  // empty: all 1
  std::vector<int64_t> pads;       // empty: all 0; else begins then ends
  AutoPad autoPad = AutoPad::NotSet;
  bool ceilMode = false;
};

// Parses and checks the window attributes of `node` (values must be positive,
// pads non-negative, lengths consistent). `op` names the operator in errors.
Status parseWindowAttrs(const Node& node, const char* op, bool kernelRequired, WindowAttrs& w);

// A window resolved for one input: everything 3-D, index 0 the outermost axis.
struct Window {
  int nd = 0;  // real spatial rank (1..3)
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, k{1, 1, 1}, s{1, 1, 1}, d{1, 1, 1};
  std::array<int64_t, 3> padBegin{0, 0, 0}, padEnd{0, 0, 0};
  int64_t inSize() const { return in[0] * in[1] * in[2]; }
  int64_t outSize() const { return out[0] * out[1] * out[2]; }
  int64_t kSize() const { return k[0] * k[1] * k[2]; }
  // Spatial output shape (nd entries) appended to `prefix`.
  Shape outShape(Shape prefix) const;
  // [n, c, spatial output...] in `buf` (its storage reused: a warm run
  // allocates nothing); returns buf.
  const Shape& outShapeInto(int64_t n, int64_t c, Shape& buf) const;
};

// Resolves the window for spatial input dims `inSpatial` and kernel dims
// `kernel` (1..3 entries): output size and the pads actually applied.
Status resolveWindow(const WindowAttrs& a, const char* op, const Shape& inSpatial, const std::vector<int64_t>& kernel,
                     Window& w);
// The same on the dims in place (e.g. an input shape past its [N, C]).
Status resolveWindow(const WindowAttrs& a, const char* op, const int64_t* inSpatial, size_t nd, const int64_t* kernel,
                     size_t nk, Window& w);

// A pool's work: one operation per output element and window tap.
inline double poolFlops(const WindowAttrs& a, const std::vector<Shape>& out) {
  if (out.empty()) return 0;
  double k = 1;
  for (int64_t v : a.kernel) k *= static_cast<double>(v);
  return static_cast<double>(numelOf(out[0])) * k;
}

// Outputs o in [lo, hi) of one axis whose input o*s - pad + off lies inside [0, in).
inline void validOutputs(int64_t outN, int64_t in, int64_t s, int64_t pad, int64_t off, int64_t& lo, int64_t& hi) {
  auto floorDiv = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  lo = std::max<int64_t>(0, -floorDiv(off - pad, s));  // ceil((pad - off) / s)
  hi = std::min<int64_t>(outN, floorDiv(in - 1 + pad - off, s) + 1);
  if (hi < lo) hi = lo;
}

// Calls f(outIndex, inIndex) (flat spatial indices) for every output whose
// tap (kd, kh, kw) reads a real (not padded) input element. The inner loop is
// branch-free: valid output ranges are computed per axis.
template <class F>
inline void forEachTap(const Window& w, int64_t kd, int64_t kh, int64_t kw, F&& f) {
  int64_t lo0, hi0, lo1, hi1, lo2, hi2;
  validOutputs(w.out[0], w.in[0], w.s[0], w.padBegin[0], kd * w.d[0], lo0, hi0);
  validOutputs(w.out[1], w.in[1], w.s[1], w.padBegin[1], kh * w.d[1], lo1, hi1);
  validOutputs(w.out[2], w.in[2], w.s[2], w.padBegin[2], kw * w.d[2], lo2, hi2);
  for (int64_t o0 = lo0; o0 < hi0; ++o0) {
    int64_t i0 = o0 * w.s[0] - w.padBegin[0] + kd * w.d[0];
    for (int64_t o1 = lo1; o1 < hi1; ++o1) {
      int64_t i1 = o1 * w.s[1] - w.padBegin[1] + kh * w.d[1];
      int64_t obase = (o0 * w.out[1] + o1) * w.out[2];
      int64_t ibase = (i0 * w.in[1] + i1) * w.in[2] - w.padBegin[2] + kw * w.d[2];
      for (int64_t o2 = lo2; o2 < hi2; ++o2) f(obase + o2, ibase + o2 * w.s[2]);
    }
  }
}

// Taps [lo, hi) of one axis that read a real input element for some output:
// tap t reads o*s - pad + t*d, so t*d must lie in [pad - (out-1)*s, in-1+pad].
// A kernel far wider than its padded input (legal with auto_pad SAME) would
// otherwise cost a loop iteration per unreachable tap and output plane.
inline void reachableTaps(int64_t k, int64_t d, int64_t outN, int64_t in, int64_t s, int64_t pad, int64_t& lo,
                          int64_t& hi) {
  auto floorDiv = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  lo = outN <= 0 ? k : std::max<int64_t>(0, -floorDiv((outN - 1) * s - pad, d));  // ceil((pad - (out-1)s) / d)
  hi = std::min<int64_t>(k, floorDiv(in - 1 + pad, d) + 1);
  if (hi < lo) hi = lo;
}

// forEachTap for every tap of the window that can read a real input
// element, in tap order (kd, kh, kw ascending).
template <class F>
inline void forEachWindowTap(const Window& w, F&& f) {
  int64_t lo[3], hi[3];
  for (int a = 0; a < 3; ++a) reachableTaps(w.k[a], w.d[a], w.out[a], w.in[a], w.s[a], w.padBegin[a], lo[a], hi[a]);
  for (int64_t kd = lo[0]; kd < hi[0]; ++kd)
    for (int64_t kh = lo[1]; kh < hi[1]; ++kh)
      for (int64_t kw = lo[2]; kw < hi[2]; ++kw) forEachTap(w, kd, kh, kw, f);
}

// Parses auto_pad; error naming the value when unknown.
Status parseAutoPad(const Node& node, const char* op, AutoPad& out);

}  // namespace topiary::ops
