// GlobalAveragePool and GlobalMaxPool: one value per (image, channel) over
// all spatial axes; the output keeps the rank with spatial dims of size 1.
#include <limits>

#include "kernels/plane_sum.h"
#include "kernels/threading.h"
#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

class GlobalPool final : public Kernel {
 public:
  explicit GlobalPool(bool isMax) : max_(isMax) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    Shape& ys = yShape_;  // reused between runs
    ys.assign(X.shape().size(), 1);
    ys[0] = X.dim(0);
    ys[1] = X.dim(1);
    out[0]->resize(DType::Float, ys);
    const float* x = X.f();
    float* y = out[0]->f();
    // Small work stays on this thread: waking a sleeping worker can cost a
    // whole scheduler slice on a busy machine.
    const int threads = kernels::threadsFor(static_cast<double>(X.numel()), ctx.threads);
    parallelFor(planes_, threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const float* xc = x + p * inN_;
        if (max_) {
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t i = 0; i < inN_; ++i) m = std::max(m, xc[i]);
          y[p] = m;
        } else {
          // Several float accumulators, no serial chain (kernels/plane_sum.h).
          const double sum = kernels::planeSum(xc, inN_);
          y[p] = static_cast<float>(sum / static_cast<double>(inN_));
        }
      }
    });
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (gradIn.empty() || !gradIn[0] || gradOut.empty() || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    if (gradOut[0]->numel() != planes_)
      return Status::badInput("global pool output gradient has shape " + shapeToString(gradOut[0]->shape()));
    gradIn[0]->resize(DType::Float, in[0]->shape());
    const float* x = in[0]->f();
    const float* gy = gradOut[0]->f();
    float* gx = gradIn[0]->f();
    parallelFor(planes_, ctx.threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        float* gxc = gx + p * inN_;
        if (max_) {
          // The whole gradient goes to the first maximum.
          const float* xc = x + p * inN_;
          int64_t best = 0;
          for (int64_t i = 1; i < inN_; ++i)
            if (xc[i] > xc[best]) best = i;
          std::fill(gxc, gxc + inN_, 0.f);
          gxc[best] = gy[p];
        } else {
          std::fill(gxc, gxc + inN_, gy[p] / static_cast<float>(inN_));
        }
      }
    });
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : static_cast<double>(numelOf(in[0]));
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    const char* op = max_ ? "GlobalMaxPool" : "GlobalAveragePool";
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, op));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, op));
    if (X.rank() < 3 || X.numel() == 0)
      return Status::badInput(std::string(op) + " needs a non-empty X as [N,C,spatial...], got " +
                              shapeToString(X.shape()));
    planes_ = X.dim(0) * X.dim(1);
    inN_ = X.numel() / planes_;
    return Status::ok();
  }

  Shape yShape_;
  bool max_;
  int64_t planes_ = 0, inN_ = 0;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createGlobalAveragePool(const Node&, int) { return make<GlobalPool>(false); }
Result<std::unique_ptr<Kernel>> createGlobalMaxPool(const Node&, int) { return make<GlobalPool>(true); }

}  // namespace topiary::ops
