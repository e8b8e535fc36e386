// Resize (opsets 10-17) and Upsample (7-9): nearest (every nearest_mode),
// linear and cubic interpolation on any axes, every
// coordinate_transformation_mode, output from scales or sizes.
//
// Interpolation is separable, so each axis gets a table: for every output
// index, the input indices it reads and their weights (1 tap for nearest, 2
// for linear, 4 for cubic; axes left unchanged get 1 tap). An output element
// is the sum over the product of its axes' taps.
#include <array>
#include <cmath>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"
#include "ops/scratch.h"

namespace topiary::ops {
namespace {

enum class Mode { Nearest, Linear, Cubic };
enum class Coord { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn, TfCropAndResize };
enum class Nearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

struct ResizeAttrs {
  Mode mode = Mode::Nearest;
  Coord coord = Coord::HalfPixel;
  Nearest nearest = Nearest::RoundPreferFloor;
  float cubicA = -0.75f;
  bool excludeOutside = false;
  float extrapolation = 0.f;
  int layout = 11;                  // 7: Upsample attr scales, 9/10: scales input, 11+: roi, scales, sizes
  std::vector<float> attrScales;    // Upsample opset 7
};

constexpr int kMaxTaps = 4;
constexpr size_t kMaxRowCombos = 256;

class Resize final : public Kernel {
 public:
  explicit Resize(ResizeAttrs a) : a_(std::move(a)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    Tensor& Y = *out[0];
    Y.resize(DType::Float, outShape_);
    if (Y.numel() == 0) return Status::ok();
    const size_t r = outShape_.size(), last = r - 1;
    const int64_t rowLen = outShape_[last], rows = Y.numel() / rowLen, inLast = X.shape()[last];
    const float* x = X.f();
    float* y = Y.f();
    parallelFor(rows, ctx.threads, [&](int64_t r0, int64_t r1) {
      std::array<int64_t, kMaxRowCombos> off;
      std::array<float, kMaxRowCombos> wt;
      for (int64_t row = r0; row < r1; ++row) {
        // Expand the taps of the leading axes into (input row, weight) pairs.
        size_t n = 1;
        off[0] = 0;
        wt[0] = 1.f;
        bool outside = false;
        int64_t rem = row;
        std::array<int64_t, 8> idx{};
        for (size_t d = last; d-- > 0;) {
          idx[d] = rem % outShape_[d];
          rem /= outShape_[d];
        }
        for (size_t d = 0; d < last; ++d) {
          size_t o = static_cast<size_t>(idx[d]);
          outside |= outside_[d][o] != 0;
          int t = taps_[d];
          for (size_t c = n; c-- > 0;)
            for (int k = t; k-- > 0;) {
              size_t e = c * static_cast<size_t>(t) + static_cast<size_t>(k);
              off[e] = off[c] * X.shape()[d] + index_[d][o * kMaxTaps + static_cast<size_t>(k)];
              wt[e] = wt[c] * weight_[d][o * kMaxTaps + static_cast<size_t>(k)];
            }
          n *= static_cast<size_t>(t);
        }
        float* yr = y + row * rowLen;
        const int tl = taps_[last];
        for (int64_t o = 0; o < rowLen; ++o) {
          size_t so = static_cast<size_t>(o);
          if (outside || outside_[last][so]) {
            yr[o] = a_.extrapolation;
            continue;
          }
          float s = 0;
          for (size_t c = 0; c < n; ++c) {
            const float* xr = x + off[c] * inLast;
            float part = 0;
            for (int k = 0; k < tl; ++k)
              part += weight_[last][so * kMaxTaps + static_cast<size_t>(k)] * xr[index_[last][so * kMaxTaps + static_cast<size_t>(k)]];
            s += wt[c] * part;
          }
          yr[o] = s;
        }
      }
    }, 8);
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.empty() || out.empty() || in[0].size() != out[0].size() || a_.mode == Mode::Nearest) return 0;
    // A multiply-add per tap: taps^k per output for k resized axes.
    double taps = 1, per = a_.mode == Mode::Linear ? 2 : 4;
    for (size_t d = 0; d < in[0].size(); ++d)
      if (in[0][d] != out[0][d]) taps *= per;
    return 2.0 * taps * static_cast<double>(numelOf(out[0]));
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Resize"));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "Resize", "X"));
    const size_t r = static_cast<size_t>(X.rank());
    if (r == 0 || r > 8) return Status::unsupported("Resize of a tensor of rank " + std::to_string(r));
    auto input = [&](size_t i) -> const Tensor* { return in.size() > i && in[i] && in[i]->numel() > 0 ? in[i] : nullptr; };
    std::vector<double>& scales = scales_;
    scales.clear();
    outShape_ = X.shape();
    const Tensor* sc = a_.layout == 7 ? nullptr : input(a_.layout >= 11 ? 2 : 1);
    const Tensor* sz = a_.layout >= 11 ? input(3) : nullptr;
    roi_.assign(2 * r, 0.0);
    for (size_t d = 0; d < r; ++d) roi_[r + d] = 1.0;
    if (a_.coord == Coord::TfCropAndResize) {
      const Tensor* roi = input(1);
      if (!roi || static_cast<size_t>(roi->numel()) != 2 * r)
        return Status::badInput("Resize with tf_crop_and_resize needs a roi of " + std::to_string(2 * r) + " values");
      roi_ = roi->toDoubles();
    }
    if (a_.layout == 7) scales.assign(a_.attrScales.begin(), a_.attrScales.end());
    else if (sc) scales = sc->toDoubles();
    if (!scales.empty()) {
      if (scales.size() != r)
        return Status::badInput("Resize has " + std::to_string(scales.size()) + " scales for an input of rank " + std::to_string(r));
      for (size_t d = 0; d < r; ++d) {
        if (!(scales[d] > 0)) return Status::badInput("Resize scale " + std::to_string(scales[d]) + " is not positive");
        // With tf_crop_and_resize the output covers the roi's extent only.
        double extent = roi_[r + d] - roi_[d];
        outShape_[d] = static_cast<int64_t>(
            std::floor(static_cast<double>(X.shape()[d]) * extent * static_cast<double>(static_cast<float>(scales[d]))));
      }
    } else if (sz) {
      std::vector<int64_t> sizes = sz->toInt64s();
      if (sizes.size() != r)
        return Status::badInput("Resize has " + std::to_string(sizes.size()) + " sizes for an input of rank " + std::to_string(r));
      for (size_t d = 0; d < r; ++d) {
        if (sizes[d] < 0) return Status::badInput("Resize size " + std::to_string(sizes[d]) + " is negative");
        outShape_[d] = sizes[d];
        scales.push_back(X.shape()[d] > 0 ? static_cast<double>(sizes[d]) / static_cast<double>(X.shape()[d]) : 1.0);
      }
    } else {
      return Status::badInput("Resize needs either scales or sizes");
    }
    for (size_t d = 0; d < r; ++d)
      if (X.shape()[d] == 0 && outShape_[d] > 0)
        return Status::badInput("Resize cannot grow the empty axis " + std::to_string(d) + " of " + shapeToString(X.shape()));
    // Checked before the per-axis tables (4 taps per output index) are built;
    // an empty output needs none.
    auto numel = checkOutputSize(outShape_, X.dtype(), "Resize output");
    if (!numel) return numel.status();
    size_t combos = 1;
    index_.resize(r);
    weight_.resize(r);
    outside_.resize(r);
    taps_.resize(r);
    for (size_t d = 0; d < r; ++d) {
      buildAxis(d, X.shape()[d], numel.value() == 0 ? 0 : outShape_[d], static_cast<float>(scales[d]));
      if (d + 1 < r) combos *= static_cast<size_t>(taps_[d]);
    }
    if (combos > kMaxRowCombos) return Status::unsupported("Resize interpolating along too many axes at once");
    return Status::ok();
  }

  double original(int64_t o, float scaleF, int64_t inLen, int64_t outLen, size_t d) const {
    const double x = static_cast<double>(o), scale = static_cast<double>(scaleF);
    const double inD = static_cast<double>(inLen), outD = static_cast<double>(outLen);
    switch (a_.coord) {
      case Coord::HalfPixel: return (x + 0.5) / scale - 0.5;
      case Coord::PytorchHalfPixel: return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
      // The resized length here is in * scale before flooring, as ONNX's reference has it.
      case Coord::AlignCorners: return outLen > 1 ? x * (inD - 1) / (inD * scale - 1) : 0.0;
      case Coord::Asymmetric: return x / scale;
      case Coord::TfHalfPixelForNn: return (x + 0.5) / scale;
      case Coord::TfCropAndResize: {
        double s = roi_[d], e = roi_[d + outShape_.size()];
        return outLen > 1 ? s * (inD - 1) + x * (e - s) * (inD - 1) / (outD - 1) : 0.5 * (s + e) * (inD - 1);
      }
    }
    return x;
  }

  void buildAxis(size_t d, int64_t inLen, int64_t outLen, float scale) {
    const size_t n = static_cast<size_t>(outLen);
    index_[d].assign(n * kMaxTaps, 0);
    weight_[d].assign(n * kMaxTaps, 0.f);
    outside_[d].assign(n, 0);
    auto clampIdx = [&](int64_t i) { return std::min<int64_t>(std::max<int64_t>(i, 0), inLen - 1); };
    // An axis whose every output reads exactly its own input needs one tap.
    bool identity = inLen == outLen && a_.coord != Coord::TfCropAndResize;
    for (int64_t o = 0; identity && o < outLen; ++o)
      identity = std::fabs(original(o, scale, inLen, outLen, d) - static_cast<double>(o)) < 1e-9;
    taps_[d] = identity || a_.mode == Mode::Nearest ? 1 : a_.mode == Mode::Linear ? 2 : 4;
    for (size_t o = 0; o < n; ++o) {
      int64_t* idx = index_[d].data() + o * kMaxTaps;
      float* w = weight_[d].data() + o * kMaxTaps;
      if (identity) {
        idx[0] = static_cast<int64_t>(o);
        w[0] = 1.f;
        continue;
      }
      double x = original(static_cast<int64_t>(o), scale, inLen, outLen, d);
      if (a_.coord == Coord::TfCropAndResize && (x < 0 || x > static_cast<double>(inLen - 1))) outside_[d][o] = 1;
      if (a_.mode == Mode::Nearest) {
        double v;
        switch (a_.nearest) {
          case Nearest::RoundPreferFloor: v = std::ceil(x - 0.5); break;
          case Nearest::RoundPreferCeil: v = std::floor(x + 0.5); break;
          case Nearest::Floor: v = std::floor(x); break;
          default: v = std::ceil(x); break;
        }
        idx[0] = clampIdx(static_cast<int64_t>(v));
        w[0] = 1.f;
      } else if (a_.mode == Mode::Linear) {
        double f = std::floor(x), t = x - f;
        idx[0] = clampIdx(static_cast<int64_t>(f));
        idx[1] = clampIdx(static_cast<int64_t>(f) + 1);
        w[0] = static_cast<float>(1 - t);
        w[1] = static_cast<float>(t);
      } else {
        double f = std::floor(x), t = x - f, A = a_.cubicA;
        // Keys' cubic convolution weights for the neighbours at -1, 0, 1, 2.
        double c[4] = {((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
                       ((A + 2) * t - (A + 3)) * t * t + 1,
                       ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1,
                       ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A};
        double sum = 0;
        for (int k = 0; k < 4; ++k) {
          int64_t i = static_cast<int64_t>(f) - 1 + k;
          if (a_.excludeOutside && (i < 0 || i >= inLen)) c[k] = 0;
          sum += c[k];
          idx[k] = clampIdx(i);
        }
        for (int k = 0; k < 4; ++k) w[k] = static_cast<float>(a_.excludeOutside && sum != 0 ? c[k] / sum : c[k]);
      }
    }
  }

  ResizeAttrs a_;
  Shape outShape_;
  std::vector<double> scales_, roi_;
  // Per axis: kMaxTaps input indices and weights per output index; taps used; outside-roi flags.
  std::vector<std::vector<int64_t>> index_;
  std::vector<std::vector<float>> weight_;
  std::vector<std::vector<char>> outside_;
  std::vector<int> taps_;
};

Status parseMode(const std::string& m, bool allowCubic, Mode& out) {
  if (m == "nearest") out = Mode::Nearest;
  else if (m == "linear" || m == "bilinear") out = Mode::Linear;
  else if (m == "cubic" && allowCubic) out = Mode::Cubic;
  else return Status::badInput("attribute 'mode' has unknown value '" + m + "'");
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Kernel>> createResize(const Node& node, int opset) {
  ResizeAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseMode(node.attrString("mode", "nearest"), opset >= 11, a.mode).withContext("Resize"));
  if (opset < 11) {
    // Opset 10 resizes like Upsample: asymmetric coordinates, nearest rounds down.
    a.layout = 10;
    a.coord = Coord::Asymmetric;
    a.nearest = Nearest::Floor;
    return make<Resize>(std::move(a));
  }
  std::string c = node.attrString("coordinate_transformation_mode", "half_pixel");
  if (c == "half_pixel") a.coord = Coord::HalfPixel;
  else if (c == "pytorch_half_pixel") a.coord = Coord::PytorchHalfPixel;
  else if (c == "align_corners") a.coord = Coord::AlignCorners;
  else if (c == "asymmetric") a.coord = Coord::Asymmetric;
  else if (c == "tf_half_pixel_for_nn") a.coord = Coord::TfHalfPixelForNn;
  else if (c == "tf_crop_and_resize") a.coord = Coord::TfCropAndResize;
  else return Status::badInput("Resize attribute 'coordinate_transformation_mode' has unknown value '" + c + "'");
  std::string n = node.attrString("nearest_mode", "round_prefer_floor");
  if (n == "round_prefer_floor") a.nearest = Nearest::RoundPreferFloor;
  else if (n == "round_prefer_ceil") a.nearest = Nearest::RoundPreferCeil;
  else if (n == "floor") a.nearest = Nearest::Floor;
  else if (n == "ceil") a.nearest = Nearest::Ceil;
  else return Status::badInput("Resize attribute 'nearest_mode' has unknown value '" + n + "'");
  a.cubicA = node.attrFloat("cubic_coeff_a", -0.75f);
  a.excludeOutside = node.attrInt("exclude_outside", 0) != 0;
  a.extrapolation = node.attrFloat("extrapolation_value", 0.f);
  a.layout = 11;
  return make<Resize>(std::move(a));
}

Result<std::unique_ptr<Kernel>> createUpsample(const Node& node, int opset) {
  ResizeAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseMode(node.attrString("mode", "nearest"), false, a.mode).withContext("Upsample"));
  a.coord = Coord::Asymmetric;
  a.nearest = Nearest::Floor;
  if (opset < 9) {
    a.layout = 7;
    a.attrScales = node.attrFloats("scales");
    if (a.attrScales.empty()) return Status::badInput("Upsample needs the attribute 'scales'");
    for (float s : a.attrScales)
      if (!(s >= 1.f)) return Status::badInput("Upsample attribute 'scales' must be >= 1, got " + std::to_string(s));
  } else {
    a.layout = 9;
  }
  return make<Resize>(std::move(a));
}

}  // namespace topiary::ops
