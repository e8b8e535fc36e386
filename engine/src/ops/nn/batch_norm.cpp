// BatchNormalization, opsets 6..latest (opset 6's is_test is ignored: RunContext decides).
//
// Inference: y = (x - mean) / sqrt(var + eps) * scale + B with the given
// running statistics. Training (RunContext::training, or the node's
// training_mode = 1 from opset 14): the statistics of the batch (biased
// variance) normalise instead, and the optional outputs receive, as ONNX
// specifies, the blended running statistics
//   running = input_running * momentum + batch * (1 - momentum)
// (outputs 1, 2; before opset 14 also the batch mean and variance as outputs
// 3, 4). Initializers are const during a run, so the kernel never writes the
// graph's running statistics: a trainer that wants them updated copies
// outputs 1 and 2 back into the initializers itself.
//
// opset 7's spatial = 0 (statistics per activation, scale shaped [C,D1,...])
// is handled by treating every activation as its own channel.
#include <cmath>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

class BatchNorm final : public Kernel {
 public:
  BatchNorm(float eps, float momentum, bool perActivation, bool trainingAttr)
      : eps_(eps), momentum_(momentum), perActivation_(perActivation), trainingAttr_(trainingAttr) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const bool training = ctx.training || trainingAttr_;
    const Tensor& X = *in[0];
    out[0]->resize(DType::Float, X.shape());
    const float *scale = in[1]->f(), *bias = in[2]->f(), *rmean = in[3]->f(), *rvar = in[4]->f();
    if (training) batchStats(X.f(), ctx);
    else
      for (int64_t c = 0; c < C_; ++c) {
        mean_[static_cast<size_t>(c)] = rmean[c];
        var_[static_cast<size_t>(c)] = rvar[c];
      }
    const float* x = X.f();
    float* y = out[0]->f();
    parallelFor(N_ * C_, ctx.threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        size_t c = static_cast<size_t>(p % C_);
        // Folded into one multiply-add per element.
        float a = scale[c] / std::sqrt(static_cast<float>(var_[c]) + eps_);
        float b = bias[c] - static_cast<float>(mean_[c]) * a;
        const float* xc = x + p * inner_;
        float* yc = y + p * inner_;
        for (int64_t i = 0; i < inner_; ++i) yc[i] = xc[i] * a + b;
      }
    }, 4);
    if (training) {
      for (size_t k = 1; k < out.size() && k <= 4; ++k) {
        if (!out[k]) continue;
        out[k]->resize(DType::Float, in[3]->shape());
        float* o = out[k]->f();
        for (int64_t c = 0; c < C_; ++c) {
          size_t ci = static_cast<size_t>(c);
          double batch = (k == 1 || k == 3) ? mean_[ci] : var_[ci];
          double running = (k == 1) ? rmean[c] : rvar[c];
          o[c] = k <= 2 ? static_cast<float>(running * momentum_ + batch * (1.0 - momentum_)) : static_cast<float>(batch);
        }
      }
    } else {
      // Outside training the extra outputs, if a model lists them, pass the statistics through.
      for (size_t k = 1; k < out.size() && k <= 4; ++k)
        if (out[k]) *out[k] = (k == 1 || k == 3) ? *in[3] : *in[4];
    }
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (gradOut.empty() || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    if (gradOut[0]->shape() != X.shape())
      return Status::badInput("BatchNormalization output gradient has shape " + shapeToString(gradOut[0]->shape()));
    const bool training = ctx.training || trainingAttr_;
    const float *x = X.f(), *gy = gradOut[0]->f(), *scale = in[1]->f();
    if (training) batchStats(x, ctx);
    else
      for (int64_t c = 0; c < C_; ++c) {
        mean_[static_cast<size_t>(c)] = in[3]->f()[c];
        var_[static_cast<size_t>(c)] = in[4]->f()[c];
      }
    // Per channel: sum(dy) and sum(dy * xhat).
    parallelFor(C_, ctx.threads, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        size_t ci = static_cast<size_t>(c);
        double invstd = 1.0 / std::sqrt(var_[ci] + eps_), sg = 0, sgx = 0;
        for (int64_t n = 0; n < N_; ++n) {
          const float* xc = x + (n * C_ + c) * inner_;
          const float* gc = gy + (n * C_ + c) * inner_;
          for (int64_t i = 0; i < inner_; ++i) {
            sg += gc[i];
            sgx += gc[i] * (xc[i] - mean_[ci]) * invstd;
          }
        }
        sumG_[ci] = sg;
        sumGX_[ci] = sgx;
      }
    });
    const double M = static_cast<double>(N_ * inner_);
    if (gradIn.size() > 0 && gradIn[0]) {
      gradIn[0]->resize(DType::Float, X.shape());
      float* gx = gradIn[0]->f();
      parallelFor(N_ * C_, ctx.threads, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
          size_t c = static_cast<size_t>(p % C_);
          double invstd = 1.0 / std::sqrt(var_[c] + eps_);
          const float* xc = x + p * inner_;
          const float* gc = gy + p * inner_;
          float* gxc = gx + p * inner_;
          if (!training) {
            float a = static_cast<float>(scale[c] * invstd);
            for (int64_t i = 0; i < inner_; ++i) gxc[i] = gc[i] * a;
          } else {
            // Through the batch statistics: dx = scale*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)).
            double k = scale[c] * invstd / M;
            for (int64_t i = 0; i < inner_; ++i) {
              double xhat = (xc[i] - mean_[c]) * invstd;
              gxc[i] = static_cast<float>(k * (M * gc[i] - sumG_[c] - xhat * sumGX_[c]));
            }
          }
        }
      }, 4);
    }
    for (size_t k = 1; k < gradIn.size() && k <= 4; ++k) {
      if (!gradIn[k]) continue;
      gradIn[k]->resize(DType::Float, in[k]->shape());
      float* g = gradIn[k]->f();
      for (int64_t c = 0; c < C_; ++c) {
        size_t ci = static_cast<size_t>(c);
        double invstd = 1.0 / std::sqrt(var_[ci] + eps_);
        double v = 0;
        if (k == 1) v = sumGX_[ci];
        else if (k == 2) v = sumG_[ci];
        else if (training) v = 0;  // batch statistics replace the running ones
        else if (k == 3) v = -sumG_[ci] * scale[c] * invstd;
        else v = -0.5 * sumGX_[ci] * scale[c] * invstd * invstd;  // d/dvar of (var+eps)^-1/2
        g[c] = static_cast<float>(v);
      }
    }
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : 2.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 5, "BatchNormalization"));
    const Tensor& X = *in[0];
    const char* names[] = {"X", "scale", "B", "input_mean", "input_var"};
    for (int i = 0; i < 5; ++i) TOPIARY_RETURN_IF_ERROR(expectFloat(*in[static_cast<size_t>(i)], "BatchNormalization", names[i]));
    if (X.rank() < 2) return Status::badInput("BatchNormalization needs X as [N,C,...], got " + shapeToString(X.shape()));
    N_ = X.dim(0);
    C_ = perActivation_ ? (N_ > 0 ? X.numel() / N_ : 0) : X.dim(1);
    inner_ = perActivation_ ? 1 : (N_ * C_ > 0 ? X.numel() / (N_ * C_) : 0);
    for (int i = 1; i < 5; ++i)
      if (in[static_cast<size_t>(i)]->numel() != C_)
        return Status::badInput(std::string("BatchNormalization ") + names[i] + " has shape " +
                                shapeToString(in[static_cast<size_t>(i)]->shape()) + " but X " + shapeToString(X.shape()) +
                                " has " + std::to_string(C_) + " channels");
    for (auto* v : {&mean_, &var_, &sumG_, &sumGX_}) v->resize(static_cast<size_t>(C_));
    return Status::ok();
  }

  // Batch mean and biased variance per channel (two passes, in double).
  void batchStats(const float* x, const RunContext& ctx) {
    const double M = static_cast<double>(N_ * inner_);
    parallelFor(C_, ctx.threads, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        double s = 0, q = 0;
        for (int64_t n = 0; n < N_; ++n) {
          const float* xc = x + (n * C_ + c) * inner_;
          for (int64_t i = 0; i < inner_; ++i) s += xc[i];
        }
        double m = M > 0 ? s / M : 0;
        for (int64_t n = 0; n < N_; ++n) {
          const float* xc = x + (n * C_ + c) * inner_;
          for (int64_t i = 0; i < inner_; ++i) q += (xc[i] - m) * (xc[i] - m);
        }
        mean_[static_cast<size_t>(c)] = m;
        var_[static_cast<size_t>(c)] = M > 0 ? q / M : 0;
      }
    });
  }

  float eps_, momentum_;
  bool perActivation_, trainingAttr_;
  int64_t N_ = 0, C_ = 0, inner_ = 0;
  std::vector<double> mean_, var_, sumG_, sumGX_;  // per channel, reused between runs
};

}  // namespace

Result<std::unique_ptr<Kernel>> createBatchNorm(const Node& node, int opset) {
  float eps = node.attrFloat("epsilon", 1e-5f);
  float momentum = node.attrFloat("momentum", 0.9f);
  if (!(eps >= 0.f)) return Status::badInput("BatchNormalization attribute 'epsilon' must be >= 0");
  if (!(momentum >= 0.f && momentum <= 1.f))
    return Status::badInput("BatchNormalization attribute 'momentum' must be in [0, 1], got " + std::to_string(momentum));
  bool perActivation = opset < 9 && node.attrInt("spatial", 1) == 0;
  int64_t tm = node.attrInt("training_mode", 0);
  if (tm != 0 && tm != 1)
    return Status::badInput("BatchNormalization attribute 'training_mode' must be 0 or 1, got " + std::to_string(tm));
  if (tm == 1 && opset < 14)
    return Status::badInput("BatchNormalization attribute 'training_mode' exists only from opset 14");
  return make<BatchNorm>(eps, momentum, perActivation, tm == 1);
}

}  // namespace topiary::ops
