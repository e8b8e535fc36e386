// ConvTranspose: the adjoint of Conv. Per image and group, one
// GEMM col = W_g^T X_g, then col2im scatters the columns onto the output,
// whose geometry is that of a convolution reading Y and producing X. Output
// size from output_shape, auto_pad (SAME_*: in * stride) or explicit pads
// and output_padding. Backward (dX, dW, dB) is the matching convolution.
#include <Eigen/Core>

#include "kernels/parallel_product.h"
#include "ops/common.h"
#include "ops/nn/im2col.h"
#include "ops/nn/nn_ops.h"
#include "ops/nn/window.h"
#include "ops/scratch.h"

namespace topiary::ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;

class ConvTranspose final : public Kernel {
 public:
  ConvTranspose(WindowAttrs a, int64_t group, std::vector<int64_t> outputPadding, std::vector<int64_t> outputShape)
      : attrs_(std::move(a)),
        group_(group),
        outputPadding_(std::move(outputPadding)),
        outputShape_(std::move(outputShape)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor &X = *in[0], &W = *in[1];
    const Tensor* B = in.size() > 2 && in[2] && in[2]->numel() > 0 ? in[2] : nullptr;
    if (B && B->numel() != Cout_)
      return Status::badInput("ConvTranspose bias has shape " + shapeToString(B->shape()) + ", expected [" +
                              std::to_string(Cout_) + "]");
    Tensor& Y = *out[0];
    Shape ys{N_, Cout_};
    for (int i = 3 - win_.nd; i < 3; ++i) ys.push_back(win_.in[static_cast<size_t>(i)]);
    Y.resize(DType::Float, ys);
    const int64_t xN = win_.outSize(), yN = win_.inSize(), K = win_.kSize();
    const int64_t CinG = Cin_ / group_, CoutG = Cout_ / group_, colN = CoutG * K * xN;
    const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(ctx.threads, N_)));
    sizeScratch(col_, static_cast<size_t>(T * colN));
    parallelFor(T, T, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        float* col = col_.data() + t * colN;
        for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n) {
          float* yn = Y.f() + n * Cout_ * yN;
          for (int64_t c = 0; c < Cout_; ++c) std::fill(yn + c * yN, yn + (c + 1) * yN, B ? B->f()[c] : 0.f);
          for (int64_t g = 0; g < group_; ++g) {
            CMap wg(W.f() + g * CinG * CoutG * K, CinG, CoutG * K);
            CMap xg(X.f() + (n * Cin_ + g * CinG) * xN, CinG, xN);
            MMap(col, CoutG * K, xN).noalias() = wg.transpose() * xg;
            col2imAdd(col, CoutG, win_, yn + g * CoutG * yN, T == 1 ? ctx.threads : 1);
          }
        }
      }
    });
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  // The adjoint of a scatter is a gather: im2col of dY with the same window
  // gives, per group, dX_g = W_g col and dW_g = sum_n X_g col^T.
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (gradOut.empty() || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor &X = *in[0], &W = *in[1], &GY = *gradOut[0];
    const int64_t xN = win_.outSize(), yN = win_.inSize(), K = win_.kSize();
    const int64_t CinG = Cin_ / group_, CoutG = Cout_ / group_, colN = Cout_ * K * xN;
    if (GY.numel() != N_ * Cout_ * yN)
      return Status::badInput("ConvTranspose output gradient has shape " + shapeToString(GY.shape()));
    Tensor* GX = gradIn.size() > 0 ? gradIn[0] : nullptr;
    Tensor* GW = gradIn.size() > 1 ? gradIn[1] : nullptr;
    Tensor* GB = gradIn.size() > 2 && in.size() > 2 && in[2] && in[2]->numel() > 0 ? gradIn[2] : nullptr;
    if (GX) GX->resize(DType::Float, X.shape());
    if (GW) {
      GW->resize(DType::Float, W.shape());
      GW->setZero();
    }
    if (GB) {
      GB->resize(DType::Float, {Cout_});
      for (int64_t c = 0; c < Cout_; ++c) {
        double s = 0;
        for (int64_t n = 0; n < N_; ++n) s += CMap(GY.f() + (n * Cout_ + c) * yN, 1, yN).sum();
        GB->f()[c] = static_cast<float>(s);
      }
    }
    sizeScratch(col_, static_cast<size_t>(colN));
    // Images run in order (dW accumulates); im2col and the GEMMs use the threads.
    for (int64_t n = 0; n < N_; ++n) {
      im2col(GY.f() + n * Cout_ * yN, Cout_, win_, col_.data(), ctx.threads);
      for (int64_t g = 0; g < group_; ++g) {
        CMap colg(col_.data() + g * CoutG * K * xN, CoutG * K, xN);
        if (GX)
          kernels::productRows(MMap(GX->f() + (n * Cin_ + g * CinG) * xN, CinG, xN),
                               CMap(W.f() + g * CinG * CoutG * K, CinG, CoutG * K), colg, ctx.threads);
        if (GW)
          kernels::productRows(MMap(GW->f() + g * CinG * CoutG * K, CinG, CoutG * K),
                               CMap(X.f() + (n * Cin_ + g * CinG) * xN, CinG, xN), colg.transpose(), ctx.threads, true);
      }
    }
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.size() < 2 || in[0].size() < 3 || in[1].size() < 3 || out.empty()) return 0;
    // Every input element meets (Cout/group) * kernel weights.
    double perIn = 1;
    for (size_t i = 1; i < in[1].size(); ++i) perIn *= static_cast<double>(in[1][i]);
    double f = 2.0 * static_cast<double>(numelOf(in[0])) * perIn;
    if (in.size() > 2 && !in[2].empty()) f += static_cast<double>(numelOf(out[0]));
    return f;
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "ConvTranspose"));
    const Tensor &X = *in[0], &W = *in[1];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "ConvTranspose", "X"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(W, "ConvTranspose", "W"));
    const int nd = X.rank() - 2;
    if (nd < 1 || nd > 3 || W.rank() != X.rank())
      return Status::badInput(
          "ConvTranspose needs X as [N,C,spatial...] (1 to 3 spatial axes) and W of the same rank, got X " +
          shapeToString(X.shape()) + " and W " + shapeToString(W.shape()));
    N_ = X.dim(0);
    Cin_ = X.dim(1);
    Cout_ = W.dim(1) * group_;
    if (W.dim(0) != Cin_ || Cin_ % group_ != 0)
      return Status::badInput("ConvTranspose with group " + std::to_string(group_) + ": X " + shapeToString(X.shape()) +
                              " and W " + shapeToString(W.shape()) + " have inconsistent channel counts");
    const size_t und = static_cast<size_t>(nd);
    auto fits = [&](const std::vector<int64_t>& v, size_t n) { return v.empty() || v.size() == n; };
    if (!fits(attrs_.strides, und) || !fits(attrs_.dilations, und) || !fits(attrs_.pads, 2 * und) ||
        !fits(outputPadding_, und) || (!outputShape_.empty() && outputShape_.size() < und))
      return Status::badInput("ConvTranspose attributes do not match the input's " + std::to_string(nd) +
                              " spatial axes");
    if (!attrs_.kernel.empty() && attrs_.kernel != std::vector<int64_t>(W.shape().begin() + 2, W.shape().end()))
      return Status::badInput("ConvTranspose attribute 'kernel_shape' does not match the weight " +
                              shapeToString(W.shape()));
    win_ = Window{};
    win_.nd = nd;
    for (size_t i = 0; i < und; ++i) {
      size_t j = 3 - und + i;
      int64_t x = X.shape()[2 + i], k = W.shape()[2 + i];
      int64_t s = attrs_.strides.empty() ? 1 : attrs_.strides[i],
              d = attrs_.dilations.empty() ? 1 : attrs_.dilations[i];
      int64_t op = outputPadding_.empty() ? 0 : outputPadding_[i];
      int64_t full = s * (x - 1) + op + (k - 1) * d + 1;  // output size without padding
      int64_t y, pb, pe;
      if (!outputShape_.empty() || attrs_.autoPad == AutoPad::SameUpper || attrs_.autoPad == AutoPad::SameLower) {
        y = !outputShape_.empty() ? outputShape_[outputShape_.size() - und + i] : x * s;
        int64_t total = full - y;
        // Following ONNX: SAME_UPPER puts the odd padding element at the end
        // of the (virtual) convolution input; otherwise at its beginning.
        if (total < 0) {
          // A requested size beyond the natural one extends the end, like output_padding.
          pb = 0;
          pe = total;
        } else if (attrs_.autoPad == AutoPad::SameUpper) {
          pb = total / 2;
          pe = total - pb;
        } else {
          pe = total / 2;
          pb = total - pe;
        }
      } else if (attrs_.autoPad == AutoPad::Valid) {
        pb = pe = 0;
        y = full;
      } else {
        pb = attrs_.pads.empty() ? 0 : attrs_.pads[i];
        pe = attrs_.pads.empty() ? 0 : attrs_.pads[i + und];
        y = full - pb - pe;
      }
      if (y <= 0)
        return Status::badInput("ConvTranspose output axis " + std::to_string(i) + " would have size " +
                                std::to_string(y));
      win_.in[j] = y;
      win_.out[j] = x;
      win_.k[j] = k;
      win_.s[j] = s;
      win_.d[j] = d;
      win_.padBegin[j] = pb;
      win_.padEnd[j] = pe;
    }
    return Status::ok();
  }

  WindowAttrs attrs_;
  int64_t group_;
  std::vector<int64_t> outputPadding_, outputShape_;
  // Geometry of the convolution this op is the adjoint of: its input is our output.
  Window win_;
  int64_t N_ = 0, Cin_ = 0, Cout_ = 0;
  std::vector<float> col_;  // one column matrix per worker, kept between runs
};

}  // namespace

Result<std::unique_ptr<Kernel>> createConvTranspose(const Node& node, int) {
  WindowAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseWindowAttrs(node, "ConvTranspose", false, a));
  int64_t group = node.attrInt("group", 1);
  if (group < 1)
    return Status::badInput("ConvTranspose attribute 'group' must be positive, got " + std::to_string(group));
  std::vector<int64_t> op = node.attrInts("output_padding"), os = node.attrInts("output_shape");
  for (int64_t v : op)
    if (v < 0) return Status::badInput("ConvTranspose attribute 'output_padding' must be non-negative");
  for (int64_t v : os)
    if (v <= 0) return Status::badInput("ConvTranspose attribute 'output_shape' must be positive");
  return make<ConvTranspose>(std::move(a), group, std::move(op), std::move(os));
}

}  // namespace topiary::ops
