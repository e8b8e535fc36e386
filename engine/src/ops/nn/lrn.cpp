// LRN (local response normalisation across channels, AlexNet / GoogLeNet),
// opsets 1..latest. For X [N,C,D1,...]:
//   square_sum[n,c,...] = sum of x[n,c',...]^2 for c' in
//                         [c - floor((size-1)/2), c + ceil((size-1)/2)] within [0, C)
//   y = x / (bias + alpha / size * square_sum) ^ beta
// The window sum slides along the channels: one add and one subtract per
// channel instead of `size` multiply-adds.
#include <cmath>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

class Lrn final : public Kernel {
 public:
  Lrn(float alpha, float beta, float bias, int64_t size) : alpha_(alpha), beta_(beta), bias_(bias), size_(size) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "LRN"));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "LRN", "X"));
    if (X.rank() < 2) return Status::badInput("LRN needs X as [N,C,...], got " + shapeToString(X.shape()));
    const int64_t N = X.dim(0), C = X.dim(1);
    out[0]->resize(DType::Float, X.shape());
    if (X.numel() == 0) return Status::ok();  // its other dimensions may multiply past int64
    const int64_t inner = X.numel() / (N * C);
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    const double k = static_cast<double>(alpha_) / static_cast<double>(size_);
    const float* x = X.f();
    float* y = out[0]->f();
    // One task per (image, spatial position) block; each walks the channels.
    parallelFor(
        N * inner, ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t t = b; t < e; ++t) {
            const int64_t n = t / inner, i = t % inner;
            const float* xs = x + n * C * inner + i;
            float* ys = y + n * C * inner + i;
            double sum = 0;
            for (int64_t c = 0; c < std::min<int64_t>(after, C); ++c) sum += double(xs[c * inner]) * xs[c * inner];
            for (int64_t c = 0; c < C; ++c) {
              if (c + after < C) sum += double(xs[(c + after) * inner]) * xs[(c + after) * inner];
              if (c - before - 1 >= 0) sum -= double(xs[(c - before - 1) * inner]) * xs[(c - before - 1) * inner];
              const double s = std::max(sum, 0.0);  // rounding may leave a tiny negative
              ys[c * inner] = static_cast<float>(xs[c * inner] / std::pow(bias_ + k * s, static_cast<double>(beta_)));
            }
          }
        },
        64);
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : 6.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  float alpha_, beta_, bias_;
  int64_t size_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createLrn(const Node& node, int) {
  if (!node.hasAttr("size")) return Status::badInput("LRN needs the attribute 'size'");
  const int64_t size = node.attrInt("size", 1);
  if (size < 1 || size > (int64_t(1) << 30))
    return Status::badInput("LRN attribute 'size' must be a positive count, got " + std::to_string(size));
  const float alpha = node.attrFloat("alpha", 1e-4f), beta = node.attrFloat("beta", 0.75f),
              bias = node.attrFloat("bias", 1.f);
  if (!std::isfinite(alpha) || !std::isfinite(beta) || !std::isfinite(bias))
    return Status::badInput("LRN attributes alpha, beta and bias must be finite");
  return make<Lrn>(alpha, beta, bias, size);
}

}  // namespace topiary::ops
