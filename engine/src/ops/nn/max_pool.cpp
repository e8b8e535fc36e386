// MaxPool: window maximum with strides, pads, dilations, ceil_mode and
// auto_pad; optional Indices output (flat index into X, row-major or, with
// storage_order 1, column-major over the spatial axes). Forward also runs on
// int8/uint8 (opset 12); backward routes dY to each window's argmax.
#include <algorithm>
#include <limits>

#include "kernels/threading.h"
#include "kernels/vec.h"
#include "ops/common.h"
#include "ops/nn/nn_ops.h"
#include "ops/nn/window.h"

namespace topiary::ops {
namespace {

using kernels::v16;

// One output row of the 2x2/2 pool, 16 outputs per step: each input row's
// 32 floats as two (masked) loads, the two rows' maximum, then the maximum
// of its even and odd lanes. Nothing past r[2 Wo - 1] is read. (Per output
// with four scalar reads it ran at about 2 inputs per cycle: 0.18 ms of
// lenet5's 3.1 ms at batch 256.)
void maxPool2x2Row(const float* r0, const float* r1, float* y, int64_t Wo) {
  const auto vmax = [](v16 a, v16 b) { return a > b ? a : b; };
  for (int64_t ow = 0; ow < Wo; ow += 16) {
    const int64_t n = std::min<int64_t>(16, Wo - ow), lo = std::min<int64_t>(16, 2 * n), hi = 2 * n - lo;
    const float* a0 = r0 + 2 * ow;
    const float* a1 = r1 + 2 * ow;
    v16 even, odd;
    kernels::deinterleave(vmax(kernels::loadPrefix(a0, lo), kernels::loadPrefix(a1, lo)),
                          vmax(kernels::loadPrefix(a0 + 16, hi), kernels::loadPrefix(a1 + 16, hi)), even, odd);
    kernels::storePrefix(y + ow, vmax(even, odd), n);
  }
}

class MaxPool final : public Kernel {
 public:
  MaxPool(WindowAttrs a, bool columnMajor) : attrs_(std::move(a)), columnMajor_(columnMajor) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    Tensor& Y = *out[0];
    Tensor* I = out.size() > 1 ? out[1] : nullptr;
    Y.resize(X.dtype(), win_.outShapeInto(N_, C_, yShape_));
    const int threads = kernels::threadsFor(static_cast<double>(X.numel()) * 4, ctx.threads);
    if (!I && X.dtype() == DType::Float) {
      // Values only (inference): a branch-free max, no argmax bookkeeping.
      maxOnly(X.f(), Y.f(), threads);
      return Status::ok();
    }
    if (I) I->resize(DType::Int64, Y.shape());
    argmax_.resize(static_cast<size_t>(N_ * C_ * win_.outSize()));
    switch (X.dtype()) {
      case DType::Float:
        run<float>(X, Y, ctx);
        break;
      case DType::UInt8:
        run<uint8_t>(X, Y, ctx);
        break;
      case DType::Int8:
        run<int8_t>(X, Y, ctx);
        break;
      default:
        return Status::unsupported(std::string("MaxPool on ") + dtypeName(X.dtype()) + " input");
    }
    if (I) {
      // argmax_ holds plane-local row-major indices; Indices are global.
      const int64_t inN = win_.inSize(), P = win_.outSize();
      int64_t* idx = I->data<int64_t>();
      for (int64_t p = 0; p < N_ * C_; ++p)
        for (int64_t o = 0; o < P; ++o) {
          int64_t local = argmax_[static_cast<size_t>(p * P + o)];
          idx[p * P + o] = p * inN + (columnMajor_ ? toColumnMajor(local) : local);
        }
    }
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (gradIn.empty() || !gradIn[0] || gradOut.empty() || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "MaxPool"));
    if (gradOut[0]->shape() != win_.outShape({N_, C_}))
      return Status::badInput("MaxPool output gradient has shape " + shapeToString(gradOut[0]->shape()));
    // Recomputing the argmax keeps backward correct whatever ran in between.
    argmax_.resize(static_cast<size_t>(N_ * C_ * win_.outSize()));
    scratchY_.resize(DType::Float, win_.outShape({N_, C_}));
    run<float>(X, scratchY_, ctx);
    Tensor& GX = *gradIn[0];
    GX.resize(DType::Float, X.shape());
    GX.setZero();
    const int64_t inN = win_.inSize(), P = win_.outSize();
    const float* gy = gradOut[0]->f();
    float* gx = GX.f();
    parallelFor(N_ * C_, ctx.threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        for (int64_t o = 0; o < P; ++o) {
          int64_t a = argmax_[static_cast<size_t>(p * P + o)];
          if (a >= 0) gx[p * inN + a] += gy[p * P + o];
        }
    });
    return Status::ok();
  }

  double flops(const std::vector<Shape>&, const std::vector<Shape>& out) const override {
    return poolFlops(attrs_, out);
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "MaxPool"));
    const Tensor& X = *in[0];
    if (X.rank() < 3) return Status::badInput("MaxPool needs X as [N,C,spatial...], got " + shapeToString(X.shape()));
    N_ = X.dim(0);
    C_ = X.dim(1);
    return resolveWindow(attrs_, "MaxPool", X.shape().data() + 2, X.shape().size() - 2, attrs_.kernel.data(),
                         attrs_.kernel.size(), win_);
  }

  // Padding taps are skipped by forEachTap, as in the argmax path.
  void maxOnly(const float* x, float* y, int threads) const {
    const int64_t inN = win_.inSize(), P = win_.outSize();
    const bool twoByTwo = win_.nd == 2 && win_.k[1] == 2 && win_.k[2] == 2 && win_.s[1] == 2 && win_.s[2] == 2 &&
                          win_.d[1] == 1 && win_.d[2] == 1 && win_.padBegin[1] == 0 && win_.padBegin[2] == 0 &&
                          win_.out[1] * 2 <= win_.in[1] && win_.out[2] * 2 <= win_.in[2];
    parallelFor(N_ * C_, threads, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const float* xc = x + p * inN;
        float* yc = y + p * P;
        if (twoByTwo) {  // the common 2x2/2 pool: no window arithmetic
          const int64_t W = win_.in[2], Wo = win_.out[2];
          for (int64_t oh = 0; oh < win_.out[1]; ++oh)
            maxPool2x2Row(xc + 2 * oh * W, xc + (2 * oh + 1) * W, yc + oh * Wo, Wo);
          continue;
        }
        std::fill(yc, yc + P, std::numeric_limits<float>::lowest());
        forEachWindowTap(win_, [&](int64_t o, int64_t i) { yc[o] = std::max(yc[o], xc[i]); });
      }
    });
  }

  template <class T>
  void run(const Tensor& X, Tensor& Y, const RunContext& ctx) {
    const int64_t inN = win_.inSize(), P = win_.outSize();
    const T* x = X.data<T>();
    T* y = Y.data<T>();
    parallelFor(
        N_ * C_, kernels::threadsFor(static_cast<double>(X.numel()) * 4, ctx.threads),
        [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p) {
            const T* xc = x + p * inN;
            T* yc = y + p * P;
            int64_t* am = argmax_.data() + p * P;
            std::fill(yc, yc + P, std::numeric_limits<T>::lowest());
            std::fill(am, am + P, int64_t(-1));
            forEachWindowTap(win_, [&](int64_t o, int64_t i) {
                    // Strict '>' keeps the first maximum in tap order, as ONNX's reference does.
                    if (am[o] < 0 || xc[i] > yc[o]) {
                      yc[o] = xc[i];
                      am[o] = i;
                    }
                  });
          }
        },
        4);
  }

  int64_t toColumnMajor(int64_t local) const {
    int64_t i2 = local % win_.in[2], i1 = (local / win_.in[2]) % win_.in[1], i0 = local / (win_.in[2] * win_.in[1]);
    switch (win_.nd) {
      case 1:
        return i2;
      case 2:
        return i2 * win_.in[1] + i1;
      default:
        return (i2 * win_.in[1] + i1) * win_.in[0] + i0;
    }
  }

  WindowAttrs attrs_;
  bool columnMajor_;
  Window win_;
  Shape yShape_;  // the output shape, reused between runs
  int64_t N_ = 0, C_ = 0;
  std::vector<int64_t> argmax_;  // per output: plane-local input index of the maximum (-1: none)
  Tensor scratchY_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createMaxPool(const Node& node, int) {
  WindowAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseWindowAttrs(node, "MaxPool", true, a));
  int64_t order = node.attrInt("storage_order", 0);
  if (order != 0 && order != 1)
    return Status::badInput("MaxPool attribute 'storage_order' must be 0 or 1, got " + std::to_string(order));
  return make<MaxPool>(std::move(a), order == 1);
}

}  // namespace topiary::ops
