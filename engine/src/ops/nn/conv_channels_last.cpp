#include "ops/nn/conv_channels_last.h"

#include <algorithm>

#include "kernels/activation.h"
#include "kernels/depthwise_conv.h"
#include "kernels/kernel_choice.h"
#include "kernels/pointwise_nhwc.h"
#include "kernels/threading.h"
#include "ops/common.h"
#include "ops/nn/window.h"

namespace topiary::ops {
namespace {

class ChannelsLastConv final : public Kernel, public kernels::KernelChoice {
 public:
  ChannelsLastConv(std::string name, WindowAttrs attrs, int64_t group, kernels::Activation act, bool xNhwc, bool yNhwc)
      : name_(std::move(name)), attrs_(std::move(attrs)), group_(group), act_(act), xNhwc_(xNhwc), yNhwc_(yNhwc) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    const Tensor& W = *in[1];
    const float* b = in.size() > 2 && in[2] && in[2]->numel() > 0 ? in[2]->f() : nullptr;
    Tensor& Y = *out[0];
    Y.resize(DType::Float, win_.outShape({N_, Cout_}));
    const int64_t inN = Cin_ * win_.inSize(), outN = Cout_ * win_.outSize();
    const double work = 2.0 * static_cast<double>(N_ * Cout_ * (Cin_ / group_) * win_.kSize() * win_.outSize());
    const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(kernels::threadsFor(work, ctx.threads), N_)));
    const float* x = X.f();
    float* y = Y.f();
    if (depthwise_) {
      if (dw_.C != Cout_ || dw_.H != win_.in[1] || dw_.W != win_.in[2] || dw_.packed.empty()) {
        dw_ = kernels::DepthwisePlan{};
        dw_.C = Cout_;
        dw_.broadcast = Cin_ == 1;
        dw_.H = win_.in[1];
        dw_.W = win_.in[2];
        dw_.kH = win_.k[1];
        dw_.kW = win_.k[2];
        dw_.dH = win_.d[1];
        dw_.dW = win_.d[2];
        dw_.sH = win_.s[1];
        dw_.sW = win_.s[2];
        dw_.padT = win_.padBegin[1];
        dw_.padL = win_.padBegin[2];
        dw_.Ho = win_.out[1];
        dw_.Wo = win_.out[2];
        dw_.init();
        dw_.pack(W.f(), b);  // frozen weights: packed once per geometry
      }
      const int64_t S = dw_.scratchFloats();
      if (scratch_.size() < static_cast<size_t>(T * S)) scratch_.resize(static_cast<size_t>(T * S));
      parallelFor(T, T, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t)
          for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n)
            dw_.run(x + n * inN, y + n * outN, scratch_.data() + t * S, &act_, xNhwc_, yNhwc_);
      });
      return Status::ok();
    }
    if (pw_.cin != Cin_ || pw_.cout != Cout_ || pw_.P != win_.outSize() || pw_.packed.empty()) {
      pw_ = kernels::PointwisePlan{};
      pw_.cin = Cin_;
      pw_.cout = Cout_;
      pw_.P = win_.outSize();
      pw_.pack(W.f(), b);
    }
    const int64_t S = pw_.scratchFloats(yNhwc_);
    if (scratch_.size() < static_cast<size_t>(T * S)) scratch_.resize(static_cast<size_t>(T * S));
    parallelFor(T, T, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n)
          pw_.run(x + n * inN, xNhwc_, y + n * outN, yNhwc_, scratch_.data() + t * S, &act_);
    });
    return Status::ok();
  }

  std::string kernelChoice() const override {
    return depthwise_ ? (dw_.broadcast ? "1ch-nhwc" : "dw-nhwc") : "pw-nhwc";
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.size() < 2 || out.empty() || in[1].size() < 3) return 0;
    const double outElems = static_cast<double>(numelOf(out[0]));
    double perOut = 1;
    for (size_t i = 1; i < in[1].size(); ++i) perOut *= static_cast<double>(in[1][i]);
    return 2.0 * outElems * perOut + (in.size() > 2 && !in[2].empty() ? outElems : 0.0);
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Conv"));
    const Tensor& X = *in[0];
    const Tensor& W = *in[1];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "Conv", "X"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(W, "Conv", "W"));
    if (X.rank() != 4 || W.rank() != 4)
      return Status::unsupported("channels-last Conv '" + name_ + "' needs a 2-D X and W, got X " +
                                 shapeToString(X.shape()) + " and W " + shapeToString(W.shape()));
    N_ = X.dim(0);
    Cin_ = X.dim(1);
    Cout_ = W.dim(0);
    std::vector<int64_t> kernel(W.shape().begin() + 2, W.shape().end());
    TOPIARY_RETURN_IF_ERROR(resolveWindow(attrs_, "Conv", Shape(X.shape().begin() + 2, X.shape().end()), kernel, win_));
    if (const Tensor* B = in.size() > 2 && in[2] && in[2]->numel() > 0 ? in[2] : nullptr) {
      TOPIARY_RETURN_IF_ERROR(expectFloat(*B, "Conv", "B"));
      if (B->numel() != Cout_)
        return Status::badInput("Conv '" + name_ + "' bias does not have " + std::to_string(Cout_) + " values");
    }
    // Depthwise, or a single input channel spread over all outputs (DepthwisePlan::broadcast).
    depthwise_ = W.dim(1) == 1 && Cout_ % 16 == 0 &&
                 ((group_ == Cin_ && Cout_ == Cin_) || (group_ == 1 && Cin_ == 1 && win_.kSize() > 1));
    const bool pointwise = group_ == 1 && W.dim(1) == Cin_ && win_.kSize() == 1 && win_.s[1] == 1 && win_.s[2] == 1 &&
                           win_.padBegin[1] == 0 && win_.padBegin[2] == 0 && win_.padEnd[1] == 0 &&
                           win_.padEnd[2] == 0 && kernels::PointwisePlan::applies(Cout_);
    if (!depthwise_ && !pointwise)
      return Status::unsupported("Conv '" + name_ + "' with X " + shapeToString(X.shape()) + " and W " +
                                 shapeToString(W.shape()) +
                                 " cannot run channels-last (run without optimizeForInference)");
    return Status::ok();
  }

  std::string name_;
  WindowAttrs attrs_;
  int64_t group_;
  kernels::Activation act_;
  bool xNhwc_, yNhwc_;
  bool depthwise_ = false;
  kernels::DepthwisePlan dw_;
  kernels::PointwisePlan pw_;
  std::vector<float> scratch_;
  Window win_;
  int64_t N_ = 0, Cin_ = 0, Cout_ = 0;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createChannelsLastConv(const Node& node) {
  WindowAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseWindowAttrs(node, "Conv", false, a));
  const int64_t group = node.attrInt("group", 1);
  if (group < 1) return Status::badInput("Conv attribute 'group' must be positive, got " + std::to_string(group));
  if (node.attrInt("topiary.residual", 0) != 0 || node.hasAttr("topiary.dynamic_skip"))
    return Status::unsupported("Conv '" + node.label() +
                               "': a fused residual or run-time skipping cannot run channels-last");
  kernels::Activation act;
  TOPIARY_RETURN_IF_ERROR(kernels::Activation::fromNode(node, act));
  return std::unique_ptr<Kernel>(std::make_unique<ChannelsLastConv>(node.label(), std::move(a), group, act,
                                                                    node.attrInt("topiary.x_nhwc", 0) != 0,
                                                                    node.attrInt("topiary.y_nhwc", 0) != 0));
}

}  // namespace topiary::ops
