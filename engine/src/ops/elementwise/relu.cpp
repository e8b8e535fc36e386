// Relu: y = max(x, 0).
#include "ops/common.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Relu final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Relu"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[0], "Relu"));
    out[0]->resize(DType::Float, in[0]->shape());
    const float* x = in[0]->f();
    float* y = out[0]->f();
    parallelFor(
        in[0]->numel(), ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
        },
        1 << 14);
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    gradIn[0]->resize(DType::Float, in[0]->shape());
    const float* x = in[0]->f();
    const float* gy = gradOut[0]->f();
    float* gx = gradIn[0]->f();
    parallelFor(
        in[0]->numel(), ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) gx[i] = x[i] > 0.f ? gy[i] : 0.f;
        },
        1 << 14);
    return Status::ok();
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return static_cast<double>(numelOf(in[0]));
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createRelu(const Node&, int) { return make<Relu>(); }

}  // namespace topiary::ops
