// Shared by Softmax and LogSoftmax: the geometry of the normalised axis and
// the numerically stable loops (the maximum is subtracted before exp).
//
// Opset < 13 coerces the input to 2-D at `axis` (default 1): everything from
// `axis` on is one row. Opset >= 13 normalises along `axis` alone (default -1).
#pragma once

#include <algorithm>
#include <cmath>

#include "ops/common.h"

namespace topiary::ops {

struct SoftmaxGeometry {
  int64_t outer = 1, n = 1, inner = 1;  // x viewed as [outer, n, inner], normalised along n
};

inline Status softmaxGeometry(const Shape& s, int64_t axis, bool coerce2d, SoftmaxGeometry& g) {
  const int64_t r = static_cast<int64_t>(s.size());
  TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, r));
  g = SoftmaxGeometry();
  for (int64_t d = 0; d < r; ++d) {
    if (d < axis)
      g.outer *= s[static_cast<size_t>(d)];
    else if (d == axis || coerce2d)
      g.n *= s[static_cast<size_t>(d)];
    else
      g.inner *= s[static_cast<size_t>(d)];
  }
  return Status::ok();
}

// y = softmax(x) or log_softmax(x) along n.
template <bool Log>
void softmaxForward(const float* x, float* y, const SoftmaxGeometry& g, int threads) {
  const int64_t n = g.n, inner = g.inner;
  parallelFor(
      g.outer * inner, threads,
      [&](int64_t b, int64_t e) {
        for (int64_t u = b; u < e; ++u) {
          const int64_t base = (u / inner) * n * inner + u % inner;
          const float* xs = x + base;
          float* ys = y + base;
          float m = -INFINITY;
          for (int64_t k = 0; k < n; ++k) m = std::max(m, xs[k * inner]);
          double sum = 0;
          for (int64_t k = 0; k < n; ++k) {
            float ex = std::exp(xs[k * inner] - m);
            if (!Log) ys[k * inner] = ex;
            sum += ex;
          }
          if (Log) {
            const float shift = m + static_cast<float>(std::log(sum));
            for (int64_t k = 0; k < n; ++k) ys[k * inner] = xs[k * inner] - shift;
          } else {
            const float inv = static_cast<float>(1.0 / sum);
            for (int64_t k = 0; k < n; ++k) ys[k * inner] *= inv;
          }
        }
      },
      std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n)));
}

// Softmax: gx = y * (gy - sum(gy * y)). LogSoftmax: gx = gy - exp(y) * sum(gy).
template <bool Log>
void softmaxBackward(const float* y, const float* gy, float* gx, const SoftmaxGeometry& g, int threads) {
  const int64_t n = g.n, inner = g.inner;
  parallelFor(
      g.outer * inner, threads,
      [&](int64_t b, int64_t e) {
        for (int64_t u = b; u < e; ++u) {
          const int64_t base = (u / inner) * n * inner + u % inner;
          double s = 0;
          for (int64_t k = 0; k < n; ++k) {
            const int64_t i = base + k * inner;
            s += Log ? gy[i] : gy[i] * y[i];
          }
          const float sf = static_cast<float>(s);
          for (int64_t k = 0; k < n; ++k) {
            const int64_t i = base + k * inner;
            gx[i] = Log ? gy[i] - std::exp(y[i]) * sf : y[i] * (gy[i] - sf);
          }
        }
      },
      std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n)));
}

// The Softmax (Log = false) and LogSoftmax (Log = true) kernel.
// FLOPs: a max, an exp (about 4, see unary.h) and a few arithmetic
// operations per element; counted as 8.
template <bool Log>
class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(int64_t axis, bool coerce2d) : axis_(axis), coerce2d_(coerce2d) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const char* op = Log ? "LogSoftmax" : "Softmax";
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, op));
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[0], op));
    SoftmaxGeometry g;
    TOPIARY_RETURN_IF_ERROR(softmaxGeometry(in[0]->shape(), axis_, coerce2d_, g));
    out[0]->resize(DType::Float, in[0]->shape());
    softmaxForward<Log>(in[0]->f(), out[0]->f(), g, ctx.threads);
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    SoftmaxGeometry g;
    TOPIARY_RETURN_IF_ERROR(softmaxGeometry(in[0]->shape(), axis_, coerce2d_, g));
    gradIn[0]->resize(DType::Float, in[0]->shape());
    softmaxBackward<Log>(out[0]->f(), gradOut[0]->f(), gradIn[0]->f(), g, ctx.threads);
    return Status::ok();
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : 8.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  int64_t axis_;
  bool coerce2d_;
};

// Opset < 13: axis defaults to 1 and the input is coerced to 2-D there.
template <bool Log>
Result<std::unique_ptr<Kernel>> makeSoftmax(const Node& node, int opset) {
  const bool coerce2d = opset < 13;
  return make<SoftmaxKernel<Log>>(node.attrInt("axis", coerce2d ? 1 : -1), coerce2d);
}

}  // namespace topiary::ops
