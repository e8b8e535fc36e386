// InstanceNormalization, opsets 1..latest (opset 1's consumed_inputs is
// ignored): every (image, channel) plane of X [N,C,D1,...] is normalised by
// its own mean and biased variance, then scaled and shifted per channel:
//   y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c]
#include <cmath>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

class InstanceNorm final : public Kernel {
 public:
  explicit InstanceNorm(float eps) : eps_(eps) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 3, "InstanceNormalization"));
    const char* names[] = {"input", "scale", "B"};
    for (size_t i = 0; i < 3; ++i) TOPIARY_RETURN_IF_ERROR(expectFloat(*in[i], "InstanceNormalization", names[i]));
    const Tensor& X = *in[0];
    if (X.rank() < 2)
      return Status::badInput("InstanceNormalization needs input as [N,C,...], got " + shapeToString(X.shape()));
    const int64_t C = X.dim(1);
    for (size_t i = 1; i < 3; ++i)
      if (in[i]->numel() != C || in[i]->rank() != 1)
        return Status::badInput(std::string("InstanceNormalization ") + names[i] + " has shape " +
                                shapeToString(in[i]->shape()) + " but the input has " + std::to_string(C) +
                                " channels");
    out[0]->resize(DType::Float, X.shape());
    if (X.numel() == 0) return Status::ok();  // its other dimensions may multiply past int64
    const int64_t planes = X.dim(0) * C;
    const int64_t inner = X.numel() / planes;
    const float *x = X.f(), *scale = in[1]->f(), *bias = in[2]->f();
    float* y = out[0]->f();
    parallelFor(planes, ctx.threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const float* xp = x + p * inner;
        float* yp = y + p * inner;
        double s = 0, q = 0;
        for (int64_t i = 0; i < inner; ++i) s += xp[i];
        const double mean = inner > 0 ? s / static_cast<double>(inner) : 0.0;
        for (int64_t i = 0; i < inner; ++i) q += (xp[i] - mean) * (xp[i] - mean);
        const double var = inner > 0 ? q / static_cast<double>(inner) : 0.0;
        const int64_t c = p % C;
        // Folded into one multiply-add per element.
        const double a = scale[c] / std::sqrt(var + static_cast<double>(eps_));
        const float fa = static_cast<float>(a), fb = static_cast<float>(bias[c] - mean * a);
        for (int64_t i = 0; i < inner; ++i) yp[i] = xp[i] * fa + fb;
      }
    });
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : 5.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  float eps_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createInstanceNormalization(const Node& node, int) {
  const float eps = node.attrFloat("epsilon", 1e-5f);
  if (!(eps >= 0.f)) return Status::badInput("InstanceNormalization attribute 'epsilon' must be >= 0");
  return make<InstanceNorm>(eps);
}

}  // namespace topiary::ops
