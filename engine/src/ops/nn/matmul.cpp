// MatMul with numpy semantics: 1-D operands are promoted to a row (A) or a
// column (B) and the added axis is dropped from the result; leading batch
// axes broadcast. When B has no batch (the common [batch..., M, K] x [K, N]
// of a linear layer) the whole product is one GEMM over the flattened rows.
#include <Eigen/Core>

#include "kernels/parallel_product.h"
#include "kernels/threading.h"
#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;

class MatMul final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    Tensor& Y = *out[0];
    Y.resize(DType::Float, outShape_);
    const float *a = in[0]->f(), *b = in[1]->f();
    float* y = Y.f();
    if (flatB_) {
      kernels::productRows(MMap(y, batch_ * M_, N_), CMap(a, batch_ * M_, K_), CMap(b, K_, N_), ctx.threads);
      return Status::ok();
    }
    const int threads =
        kernels::threadsFor(2.0 * static_cast<double>(batch_ * M_) * static_cast<double>(N_ * K_), ctx.threads);
    parallelFor(batch_, threads, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; ++i)
        MMap(y + i * M_ * N_, M_, N_).noalias() =
            CMap(a + offA_[static_cast<size_t>(i)], M_, K_) * CMap(b + offB_[static_cast<size_t>(i)], K_, N_);
    });
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (gradOut.empty() || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    if (gradOut[0]->shape() != outShape_)
      return Status::badInput("MatMul output gradient has shape " + shapeToString(gradOut[0]->shape()) + ", expected " +
                              shapeToString(outShape_));
    const float *a = in[0]->f(), *b = in[1]->f(), *gy = gradOut[0]->f();
    Tensor* GA = gradIn.size() > 0 ? gradIn[0] : nullptr;
    Tensor* GB = gradIn.size() > 1 ? gradIn[1] : nullptr;
    if (GA) {
      GA->resize(DType::Float, in[0]->shape());
      GA->setZero();
    }
    if (GB) {
      GB->resize(DType::Float, in[1]->shape());
      GB->setZero();
    }
    if (flatB_) {
      if (GA)
        kernels::productRows(MMap(GA->f(), batch_ * M_, K_), CMap(gy, batch_ * M_, N_), CMap(b, K_, N_).transpose(),
                             ctx.threads);
      if (GB)
        kernels::productRows(MMap(GB->f(), K_, N_), CMap(a, batch_ * M_, K_).transpose(), CMap(gy, batch_ * M_, N_),
                             ctx.threads);
      return Status::ok();
    }
    // Broadcast batches sum into the same operand slice, so this runs in
    // order (each GEMM's rows may still be split over the threads).
    for (int64_t i = 0; i < batch_; ++i) {
      CMap g(gy + i * M_ * N_, M_, N_);
      size_t si = static_cast<size_t>(i);
      if (GA)
        kernels::productRows(MMap(GA->f() + offA_[si], M_, K_), g, CMap(b + offB_[si], K_, N_).transpose(), ctx.threads,
                             true);
      if (GB)
        kernels::productRows(MMap(GB->f() + offB_[si], K_, N_), CMap(a + offA_[si], M_, K_).transpose(), g, ctx.threads,
                             true);
    }
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.size() < 2 || out.empty() || in[0].empty()) return 0;
    return 2.0 * static_cast<double>(numelOf(out[0])) * static_cast<double>(in[0].back());
  }

 private:
  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "MatMul"));
    const Tensor &A = *in[0], &B = *in[1];
    TOPIARY_RETURN_IF_ERROR(expectFloat(A, "MatMul", "A"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(B, "MatMul", "B"));
    if (A.rank() < 1 || B.rank() < 1)
      return Status::badInput("MatMul needs operands of rank >= 1, got " + shapeToString(A.shape()) + " and " +
                              shapeToString(B.shape()));
    Shape sa = A.shape(), sb = B.shape();
    if (sa.size() == 1) sa.insert(sa.begin(), 1);
    if (sb.size() == 1) sb.push_back(1);
    M_ = sa[sa.size() - 2];
    K_ = sa.back();
    N_ = sb.back();
    if (sb[sb.size() - 2] != K_)
      return Status::badInput("MatMul inner dimensions differ: " + shapeToString(A.shape()) + " x " +
                              shapeToString(B.shape()));
    Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
    auto bs = broadcastShapes(ba, bb);
    if (!bs)
      return Status::badInput("MatMul batch axes do not broadcast: " + shapeToString(A.shape()) + " x " +
                              shapeToString(B.shape()));
    const Shape& batchShape = bs.value();
    batch_ = numelOf(batchShape);
    outShape_ = batchShape;
    if (A.rank() > 1) outShape_.push_back(M_);
    if (B.rank() > 1) outShape_.push_back(N_);
    flatB_ = numelOf(bb) == 1 && numelOf(ba) == batch_;
    if (flatB_) return Status::ok();
    // Element offset of each output batch's A and B matrices (stride 0 on broadcast axes).
    offA_.assign(static_cast<size_t>(batch_), 0);
    offB_.assign(static_cast<size_t>(batch_), 0);
    const size_t r = batchShape.size();
    int64_t strideA = M_ * K_, strideB = K_ * N_, period = 1;
    for (size_t d = r; d-- > 0;) {
      int64_t da = d + ba.size() >= r ? ba[d + ba.size() - r] : 1;
      int64_t db = d + bb.size() >= r ? bb[d + bb.size() - r] : 1;
      int64_t extent = batchShape[d];
      for (int64_t i = 0; i < batch_; ++i) {
        int64_t idx = (i / period) % extent;
        if (da != 1) offA_[static_cast<size_t>(i)] += idx * strideA;
        if (db != 1) offB_[static_cast<size_t>(i)] += idx * strideB;
      }
      strideA *= da;
      strideB *= db;
      period *= extent;
    }
    return Status::ok();
  }

  int64_t M_ = 0, K_ = 0, N_ = 0, batch_ = 0;
  bool flatB_ = false;
  Shape outShape_;
  std::vector<int64_t> offA_, offB_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createMatMul(const Node&, int) { return make<MatMul>(); }

}  // namespace topiary::ops
