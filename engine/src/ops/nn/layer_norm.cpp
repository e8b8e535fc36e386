// LayerNormalization, opset 17: every slice X[i0..i(axis-1), :, ..., :] is
// normalised over the trailing axes [axis, rank):
//   Y = (X - mean) * invStdDev * Scale + B,  invStdDev = 1 / sqrt(var + eps)
// with the biased variance. Scale and the optional B broadcast
// unidirectionally to X.shape[axis:]. The optional outputs Mean and
// InvStdDev have X's leading dimensions and 1 for each normalised axis.
// Statistics are computed in double whatever stash_type says (float32 is the
// only type it can name for a float32 input in practice).
#include <cmath>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

class LayerNorm final : public Kernel {
 public:
  LayerNorm(int64_t axis, float eps) : axis_(axis), eps_(eps) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "LayerNormalization"));
    const Tensor& X = *in[0];
    const Tensor* B = in.size() > 2 ? in[2] : nullptr;
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "LayerNormalization", "X"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[1], "LayerNormalization", "Scale"));
    if (B) TOPIARY_RETURN_IF_ERROR(expectFloat(*B, "LayerNormalization", "B"));
    int64_t axis = axis_;
    if (X.rank() == 0) return Status::badInput("LayerNormalization needs an input of rank >= 1");
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, X.rank(), "LayerNormalization axis"));
    Shape statShape(X.shape().begin(), X.shape().begin() + axis);
    statShape.resize(X.shape().size(), 1);
    out[0]->resize(DType::Float, X.shape());
    Tensor* meanOut = out.size() > 1 ? out[1] : nullptr;
    Tensor* invOut = out.size() > 2 ? out[2] : nullptr;
    if (meanOut) meanOut->resize(DType::Float, statShape);
    if (invOut) invOut->resize(DType::Float, statShape);
    // An empty tensor's other dimensions may multiply past int64.
    if (X.numel() == 0) return Status::ok();
    const Shape normShape(X.shape().begin() + axis, X.shape().end());
    const int64_t inner = numelOf(normShape);
    const int64_t outer = X.numel() / inner;
    TOPIARY_RETURN_IF_ERROR(broadcastParam(*in[1], normShape, "Scale", scale_));
    if (B)
      TOPIARY_RETURN_IF_ERROR(broadcastParam(*B, normShape, "B", bias_));
    else
      bias_.assign(static_cast<size_t>(inner), 0.f);
    const float* x = X.f();
    float* y = out[0]->f();
    parallelFor(
        outer, ctx.threads,
        [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) {
            const float* xr = x + r * inner;
            float* yr = y + r * inner;
            double s = 0, q = 0;
            for (int64_t i = 0; i < inner; ++i) s += xr[i];
            const double mean = inner > 0 ? s / static_cast<double>(inner) : 0.0;
            for (int64_t i = 0; i < inner; ++i) q += (xr[i] - mean) * (xr[i] - mean);
            const double var = inner > 0 ? q / static_cast<double>(inner) : 0.0;
            const double inv = 1.0 / std::sqrt(var + static_cast<double>(eps_));
            for (int64_t i = 0; i < inner; ++i) {
              const size_t k = static_cast<size_t>(i);
              yr[i] = static_cast<float>((xr[i] - mean) * inv * scale_[k] + bias_[k]);
            }
            if (meanOut) meanOut->f()[r] = static_cast<float>(mean);
            if (invOut) invOut->f()[r] = static_cast<float>(inv);
          }
        },
        std::max<int64_t>(1, 4096 / std::max<int64_t>(1, inner)));
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : 6.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  // Expands a parameter that broadcasts unidirectionally to `target` into a
  // dense vector of target's size (reused between runs).
  static Status broadcastParam(const Tensor& p, const Shape& target, const char* what, std::vector<float>& dense) {
    const Shape& ps = p.shape();
    bool ok = ps.size() <= target.size();
    for (size_t d = 0; ok && d < ps.size(); ++d) {
      const int64_t pd = ps[ps.size() - 1 - d], td = target[target.size() - 1 - d];
      ok = pd == td || pd == 1;
    }
    if (!ok)
      return Status::badInput(std::string("LayerNormalization ") + what + " of shape " + shapeToString(ps) +
                              " does not broadcast to the normalised shape " + shapeToString(target));
    const int64_t n = numelOf(target);
    dense.resize(static_cast<size_t>(n));
    if (p.numel() == n) {
      std::copy(p.f(), p.f() + n, dense.begin());
      return Status::ok();
    }
    // Strides of p inside target's rank (0 where p has size 1 or no axis).
    const size_t r = target.size();
    std::vector<int64_t> st(r, 0);
    int64_t acc = 1;
    for (size_t d = 0; d < ps.size(); ++d) {
      const size_t td = r - 1 - d, pd = ps.size() - 1 - d;
      st[td] = ps[pd] == 1 ? 0 : acc;
      acc *= ps[pd];
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (size_t d = r; d-- > 0;) {
        off += (rem % target[d]) * st[d];
        rem /= target[d];
      }
      dense[static_cast<size_t>(i)] = p.f()[off];
    }
    return Status::ok();
  }

  int64_t axis_;
  float eps_;
  std::vector<float> scale_, bias_;  // dense over the normalised shape
};

}  // namespace

Result<std::unique_ptr<Kernel>> createLayerNormalization(const Node& node, int) {
  const float eps = node.attrFloat("epsilon", 1e-5f);
  if (!(eps >= 0.f)) return Status::badInput("LayerNormalization attribute 'epsilon' must be >= 0");
  const int64_t stash = node.attrInt("stash_type", 1);
  if (stash != 1)
    return Status::unsupported("LayerNormalization stash_type " + std::to_string(stash) +
                               " is not supported (only 1, float32)");
  return make<LayerNorm>(node.attrInt("axis", -1), eps);
}

}  // namespace topiary::ops
