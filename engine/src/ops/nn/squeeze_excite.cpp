#include "ops/nn/squeeze_excite.h"

#include <Eigen/Core>

#include "kernels/activation.h"
#include "kernels/nhwc_ops.h"
#include "kernels/plane_sum.h"
#include "ops/common.h"

namespace topiary::ops {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class SqueezeExcite final : public Kernel {
 public:
  // nhwc: x and y stored [N, H, W, C] inside a channels-last region
  // (optimize/channels_last.h; C a multiple of 16).
  SqueezeExcite(std::string name, kernels::Activation a1, kernels::Activation a2, bool nhwc)
      : name_(std::move(name)), act1_(a1), act2_(a2), nhwc_(nhwc) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    out[0]->resize(DType::Float, X.shape());
    const int64_t N = X.dim(0), C = X.dim(1), plane = X.numel() / std::max<int64_t>(1, N * C);
    const float* x = X.f();
    float* y = out[0]->f();
    const float* w1 = in[1]->f();
    const float* w2 = in[3]->f();
    const float* b1 = in.size() > 2 && in[2] && in[2]->numel() ? in[2]->f() : nullptr;
    const float* b2 = in.size() > 4 && in[4] && in[4]->numel() ? in[4]->f() : nullptr;
    const Eigen::Map<const RowMajor> W1(w1, cr_, C), W2(w2, C, cr_);
    // Per-image scratch as members: no allocation once the batch size is seen.
    squeeze_.resize(static_cast<size_t>(N * C));
    hidden_.resize(static_cast<size_t>(N * cr_));
    gate_.resize(static_cast<size_t>(N * C));
    parallelFor(N, ctx.threads, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        const float* xn = x + n * C * plane;
        float* s = squeeze_.data() + n * C;
        float* h = hidden_.data() + n * cr_;
        float* g = gate_.data() + n * C;
        // Same sum as GlobalAveragePool's, so the fused model matches the unfused one.
        if (nhwc_) kernels::pixelSums(xn, plane, C, s);
        for (int64_t c = 0; c < C; ++c)
          s[c] = static_cast<float>(static_cast<double>(nhwc_ ? s[c] : kernels::planeSum(xn + c * plane, plane)) /
                                    static_cast<double>(plane));
        Eigen::Map<Eigen::VectorXf> hv(h, cr_), gv(g, C);
        hv.noalias() = W1 * Eigen::Map<const Eigen::VectorXf>(s, C);
        if (b1) hv += Eigen::Map<const Eigen::VectorXf>(b1, cr_);
        act1_.apply(h, cr_);
        gv.noalias() = W2 * hv;
        if (b2) gv += Eigen::Map<const Eigen::VectorXf>(b2, C);
        act2_.apply(g, C);
        float* yn = y + n * C * plane;
        if (nhwc_) {
          kernels::scalePixels(xn, plane, C, g, yn);
          continue;
        }
        for (int64_t c = 0; c < C; ++c) {
          const float gc = g[c];
          const float* xc = xn + c * plane;
          float* yc = yn + c * plane;
          for (int64_t i = 0; i < plane; ++i) yc[i] = xc[i] * gc;
        }
      }
    });
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    if (in.size() < 4 || in[0].size() < 2) return 0.0;
    const double n = static_cast<double>(in[0][0]), c = static_cast<double>(in[0][1]);
    const double r = static_cast<double>(numelOf(in[1])) / std::max(1.0, c);
    // Pool + scale over x, two matrix-vector products per image.
    return 2.0 * static_cast<double>(numelOf(in[0])) + n * 4.0 * r * c;
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    if (in.size() < 4 || !in[0] || !in[1] || !in[3])
      return Status::badInput("fused squeeze-excite '" + name_ + "' needs inputs x, W1, B1, W2, B2");
    const Tensor& X = *in[0];
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i] && in[i]->dtype() != DType::Float)
        return Status::unsupported("fused squeeze-excite '" + name_ + "': input " + std::to_string(i) +
                                   " is not float32");
    if (X.rank() < 3 || X.numel() == 0)
      return Status::badInput("fused squeeze-excite '" + name_ + "' needs x as a non-empty [N,C,spatial...], got " +
                              shapeToString(X.shape()));
    const int64_t C = X.dim(1);
    if (nhwc_ && C % 16 != 0)
      return Status::unsupported("fused squeeze-excite '" + name_ +
                                 "' runs channels-last only on multiples of 16 channels, got " + std::to_string(C));
    cr_ = in[1]->rank() >= 1 ? in[1]->dim(0) : 0;
    if (cr_ <= 0 || in[1]->rank() != X.rank() || in[3]->rank() != X.rank() || in[1]->numel() != cr_ * C ||
        in[3]->numel() != C * cr_ || in[3]->dim(0) != C)
      return Status::badInput("fused squeeze-excite '" + name_ + "': weights " + shapeToString(in[1]->shape()) +
                              " and " + shapeToString(in[3]->shape()) + " do not fit " + std::to_string(C) +
                              " channels");
    if (in.size() > 2 && in[2] && in[2]->numel() != 0 && in[2]->numel() != cr_)
      return Status::badInput("fused squeeze-excite '" + name_ + "': first bias has " + std::to_string(in[2]->numel()) +
                              " values, expected " + std::to_string(cr_));
    if (in.size() > 4 && in[4] && in[4]->numel() != 0 && in[4]->numel() != C)
      return Status::badInput("fused squeeze-excite '" + name_ + "': second bias has " +
                              std::to_string(in[4]->numel()) + " values, expected " + std::to_string(C));
    return Status::ok();
  }

  std::string name_;
  kernels::Activation act1_, act2_;
  bool nhwc_;
  int64_t cr_ = 0;
  std::vector<float> squeeze_, hidden_, gate_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSqueezeExcite(const Node& node, int) {
  kernels::Activation a1, a2;
  TOPIARY_RETURN_IF_ERROR(kernels::Activation::fromNode(node, a1, "topiary.se_act1"));
  TOPIARY_RETURN_IF_ERROR(kernels::Activation::fromNode(node, a2, "topiary.se_act2"));
  return make<SqueezeExcite>(node.label(), a1, a2, node.attrInt("topiary.nhwc", 0) != 0);
}

}  // namespace topiary::ops
