// Dropout. Inference: y = x and the optional mask is all true. Training
// (RunContext::training, or the training_mode input of opset 12+): each
// element is kept with probability 1 - ratio and scaled by 1/(1 - ratio).
//
// The random numbers come from a counter-based hash of (seed, call number,
// element index), so a mask does not depend on the thread count and the
// backward pass recomputes it instead of storing it. The ratio is an
// attribute before opset 12 and an optional input from 12 on; the mask is
// float before opset 10 and bool from 10 on.
#include <cstring>

#include "ops/common.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

inline uint64_t mix64(uint64_t z) {  // the splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Dropout final : public Kernel {
 public:
  Dropout(float ratio, bool ratioIsInput, bool boolMask, uint64_t seed)
      : ratio_(ratio), ratioIsInput_(ratioIsInput), boolMask_(boolMask), seed_(seed) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Dropout"));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "Dropout"));
    float ratio = ratio_;
    if (ratioIsInput_ && in.size() > 1 && in[1]) {
      if (in[1]->numel() != 1) return Status::badInput("Dropout ratio must be a scalar");
      ratio = static_cast<float>(in[1]->toDoubles()[0]);
    }
    if (!(ratio >= 0.f && ratio <= 1.f))
      return Status::badInput("Dropout ratio " + std::to_string(ratio) + " is outside [0, 1]");
    bool training = ctx.training;
    if (ratioIsInput_ && in.size() > 2 && in[2]) {
      if (in[2]->numel() != 1 || in[2]->dtype() != DType::Bool)
        return Status::badInput("Dropout training_mode must be a bool scalar");
      training = in[2]->data<uint8_t>()[0] != 0;
    }
    lastTraining_ = training && ratio > 0.f;
    lastRatio_ = ratio;
    if (lastTraining_) ++call_;
    const int64_t n = X.numel();
    out[0]->resize(DType::Float, X.shape());
    Tensor* mask = out.size() > 1 ? out[1] : nullptr;
    if (mask) mask->resize(boolMask_ ? DType::Bool : DType::Float, X.shape());
    const float* x = X.f();
    float* y = out[0]->f();
    if (!lastTraining_) {
      if (n) std::memcpy(y, x, X.bytes());
      if (mask && boolMask_)
        std::memset(mask->raw(), 1, mask->bytes());
      else if (mask)
        mask->fill(1.f);
      return Status::ok();
    }
    const float scale = ratio < 1.f ? 1.f / (1.f - ratio) : 0.f;
    const uint32_t threshold = threshold24(ratio);
    const uint64_t stream = streamKey();
    parallelFor(
        n, ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            const bool keep = keepElement(stream, i, threshold);
            y[i] = keep ? x[i] * scale : 0.f;
            if (mask && boolMask_)
              mask->data<uint8_t>()[i] = keep ? 1 : 0;
            else if (mask)
              mask->f()[i] = keep ? 1.f : 0.f;
          }
        },
        1 << 14);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    const int64_t n = in[0]->numel();
    gradIn[0]->resize(DType::Float, in[0]->shape());
    const float* gy = gradOut[0]->f();
    float* gx = gradIn[0]->f();
    if (!lastTraining_) {
      if (n) std::memcpy(gx, gy, gradIn[0]->bytes());
      return Status::ok();
    }
    // Same mask as the last forward pass: same stream, same indices.
    const float scale = lastRatio_ < 1.f ? 1.f / (1.f - lastRatio_) : 0.f;
    const uint32_t threshold = threshold24(lastRatio_);
    const uint64_t stream = streamKey();
    parallelFor(
        n, ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) gx[i] = keepElement(stream, i, threshold) ? gy[i] * scale : 0.f;
        },
        1 << 14);
    return Status::ok();
  }

  // Inference (what FLOP counts describe) is a copy.
  double flops(const std::vector<Shape>&, const std::vector<Shape>&) const override { return 0.0; }

 private:
  // An element is dropped when its 24-bit uniform draw is below ratio * 2^24.
  static uint32_t threshold24(float ratio) {
    return ratio >= 1.f ? (1u << 24) : static_cast<uint32_t>(static_cast<double>(ratio) * (1u << 24));
  }
  uint64_t streamKey() const { return mix64(seed_ ^ mix64(call_ + 0x9e3779b97f4a7c15ULL)); }
  static bool keepElement(uint64_t stream, int64_t i, uint32_t threshold) {
    return static_cast<uint32_t>(mix64(stream + static_cast<uint64_t>(i)) >> 40) >= threshold;
  }

  float ratio_;
  bool ratioIsInput_, boolMask_;
  uint64_t seed_;
  uint64_t call_ = 0;  // training passes so far: each draws a new mask
  bool lastTraining_ = false;
  float lastRatio_ = 0.f;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createDropout(const Node& node, int opset) {
  const float ratio = node.attrFloat("ratio", 0.5f);
  if (opset < 12 && !(ratio >= 0.f && ratio <= 1.f))
    return Status::badInput("Dropout ratio " + std::to_string(ratio) + " is outside [0, 1]");
  const uint64_t seed = static_cast<uint64_t>(node.attrInt("seed", 0x5eed));
  return make<Dropout>(ratio, opset >= 12, opset >= 10, seed);
}

}  // namespace topiary::ops
