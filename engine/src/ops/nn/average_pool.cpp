// AveragePool: window mean with strides, pads, ceil_mode, auto_pad and
// count_include_pad (dilations too, as opset 19 allows). The divisor of each
// output is separable: a product over axes of the taps that count, so it is
// tabulated per axis once per call.
#include "kernels/threading.h"
#include "ops/common.h"
#include "ops/nn/nn_ops.h"
#include "ops/nn/window.h"

namespace topiary::ops {
namespace {

class AveragePool final : public Kernel {
 public:
  AveragePool(WindowAttrs a, bool includePad) : attrs_(std::move(a)), includePad_(includePad) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    Tensor& Y = *out[0];
    Y.resize(DType::Float, win_.outShapeInto(N_, C_, yShape_));  // refuses an output over the size limit first
    if (Y.numel() == 0) return Status::ok();
    buildCounts();
    const int64_t inN = win_.inSize(), P = win_.outSize();
    const float* x = X.f();
    float* y = Y.f();
    const int threads = kernels::threadsFor(static_cast<double>(Y.numel() * win_.kSize()), ctx.threads);
    parallelFor(
        N_ * C_, threads,
        [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p) {
            const float* xc = x + p * inN;
            float* yc = y + p * P;
            std::fill(yc, yc + P, 0.f);
            forEachWindowTap(win_, [&](int64_t o, int64_t i) { yc[o] += xc[i]; });
            for (int64_t o = 0; o < P; ++o) yc[o] *= invCount_[static_cast<size_t>(o)];
          }
        },
        4);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (gradIn.empty() || !gradIn[0] || gradOut.empty() || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    if (gradOut[0]->shape() != win_.outShape({N_, C_}))
      return Status::badInput("AveragePool output gradient has shape " + shapeToString(gradOut[0]->shape()));
    Tensor& GX = *gradIn[0];
    GX.resize(DType::Float, in[0]->shape());
    GX.setZero();
    if (gradOut[0]->numel() == 0) return Status::ok();
    buildCounts();
    const int64_t inN = win_.inSize(), P = win_.outSize();
    const float* gy = gradOut[0]->f();
    float* gx = GX.f();
    parallelFor(
        N_ * C_, ctx.threads,
        [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p) {
            const float* gyc = gy + p * P;
            float* gxc = gx + p * inN;
            forEachWindowTap(win_, [&](int64_t o, int64_t i) { gxc[i] += gyc[o] * invCount_[static_cast<size_t>(o)]; });
          }
        },
        4);
    return Status::ok();
  }

  double flops(const std::vector<Shape>&, const std::vector<Shape>& out) const override {
    return poolFlops(attrs_, out);
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "AveragePool"));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "AveragePool"));
    if (X.rank() < 3)
      return Status::badInput("AveragePool needs X as [N,C,spatial...], got " + shapeToString(X.shape()));
    N_ = X.dim(0);
    C_ = X.dim(1);
    TOPIARY_RETURN_IF_ERROR(
        resolveWindow(attrs_, "AveragePool", X.shape().data() + 2, X.shape().size() - 2, attrs_.kernel.data(),
                      attrs_.kernel.size(), win_));
    return Status::ok();
  }

  // Per axis and output: taps inside the input, or inside input + pads when
  // padding counts (taps past the end padding, from ceil_mode, never count);
  // then 1 / count per output position. Called once the output (or its
  // gradient) exists, so its size is known to be within the tensor limit.
  void buildCounts() {
    auto& count = count_;
    for (size_t j = 0; j < 3; ++j) {
      count[j].assign(static_cast<size_t>(win_.out[j]), 0);
      int64_t lo = includePad_ ? -win_.padBegin[j] : 0, hi = includePad_ ? win_.in[j] + win_.padEnd[j] : win_.in[j];
      for (int64_t o = 0; o < win_.out[j]; ++o)
        for (int64_t t = 0; t < win_.k[j]; ++t) {
          int64_t i = o * win_.s[j] - win_.padBegin[j] + t * win_.d[j];
          if (i >= lo && i < hi) ++count[j][static_cast<size_t>(o)];
        }
    }
    invCount_.resize(static_cast<size_t>(win_.outSize()));
    size_t o = 0;
    for (int64_t a = 0; a < win_.out[0]; ++a)
      for (int64_t b = 0; b < win_.out[1]; ++b)
        for (int64_t c = 0; c < win_.out[2]; ++c, ++o) {
          int64_t n =
              count[0][static_cast<size_t>(a)] * count[1][static_cast<size_t>(b)] * count[2][static_cast<size_t>(c)];
          invCount_[o] = n > 0 ? 1.f / static_cast<float>(n) : 0.f;
        }
  }

  WindowAttrs attrs_;
  bool includePad_;
  Window win_;
  Shape yShape_;  // the output shape, reused between runs
  int64_t N_ = 0, C_ = 0;
  std::vector<float> invCount_;  // 1 / divisor per spatial output
  std::array<std::vector<int64_t>, 3> count_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createAveragePool(const Node& node, int) {
  WindowAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseWindowAttrs(node, "AveragePool", true, a));
  return make<AveragePool>(std::move(a), node.attrInt("count_include_pad", 0) != 0);
}

}  // namespace topiary::ops
