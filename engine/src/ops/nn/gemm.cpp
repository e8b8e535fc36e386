// Gemm: Y = alpha * op(A) * op(B) + beta * C, op = optional transpose, C
// unidirectionally broadcast to Y. The inner product is Eigen's GEMM over
// row-major maps of our buffers.
#include <Eigen/Core>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;

class Gemm final : public Kernel {
 public:
  Gemm(float alpha, float beta, bool transA, bool transB) : alpha_(alpha), beta_(beta), transA_(transA), transB_(transB) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Gemm"));
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    TOPIARY_RETURN_IF_ERROR(expectFloat(A, "Gemm", "A"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(B, "Gemm", "B"));
    if (A.rank() != 2 || B.rank() != 2)
      return Status::badInput("Gemm needs 2-D inputs, got " + shapeToString(A.shape()) + " and " + shapeToString(B.shape()));
    int64_t M = transA_ ? A.dim(1) : A.dim(0), K = transA_ ? A.dim(0) : A.dim(1);
    int64_t Kb = transB_ ? B.dim(1) : B.dim(0), N = transB_ ? B.dim(0) : B.dim(1);
    if (K != Kb)
      return Status::badInput("Gemm inner dimensions differ: A " + shapeToString(A.shape()) + ", B " + shapeToString(B.shape()));
    Tensor& Y = *out[0];
    Y.resize(DType::Float, {M, N});
    MMap y(Y.f(), M, N);
    CMap a(A.f(), A.dim(0), A.dim(1));
    CMap b(B.f(), B.dim(0), B.dim(1));
    // Bias first, then accumulate the product in place (no temporary).
    const Tensor* C = in.size() > 2 ? in[2] : nullptr;
    if (C && beta_ != 0.f && C->numel() > 0) {
      TOPIARY_RETURN_IF_ERROR(expectFloat(*C, "Gemm", "C"));
      auto bs = broadcastShapes(C->shape(), {M, N});
      if (!bs || bs.value() != Shape{M, N})
        return Status::badInput("Gemm bias of shape " + shapeToString(C->shape()) + " does not broadcast to " + shapeToString({M, N}));
      Shape cs = C->shape();
      while (cs.size() < 2) cs.insert(cs.begin(), 1);
      int64_t cr = cs[0], cc = cs[1];
      const float* c = C->f();
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) y(i, j) = beta_ * c[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
    } else {
      y.setZero();
    }
    if (!transA_ && !transB_) y.noalias() += alpha_ * a * b;
    else if (!transA_ && transB_) y.noalias() += alpha_ * a * b.transpose();
    else if (transA_ && !transB_) y.noalias() += alpha_ * a.transpose() * b;
    else y.noalias() += alpha_ * a.transpose() * b.transpose();
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    if (!gradOut[0]) return Status::ok();
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    CMap a(A.f(), A.dim(0), A.dim(1));
    CMap b(B.f(), B.dim(0), B.dim(1));
    const Tensor& GY = *gradOut[0];
    CMap gy(GY.f(), GY.dim(0), GY.dim(1));
    // Y = alpha * opA(A) opB(B): dopA = alpha * gY opB^T, dopB = alpha * opA^T gY.
    if (gradIn[0]) {
      gradIn[0]->resize(DType::Float, A.shape());
      MMap ga(gradIn[0]->f(), A.dim(0), A.dim(1));
      RowMat bop = transB_ ? RowMat(b.transpose()) : RowMat(b);
      if (!transA_) ga.noalias() = alpha_ * gy * bop.transpose();
      else ga.noalias() = alpha_ * bop * gy.transpose();
    }
    if (gradIn.size() > 1 && gradIn[1]) {
      gradIn[1]->resize(DType::Float, B.shape());
      MMap gb(gradIn[1]->f(), B.dim(0), B.dim(1));
      RowMat aop = transA_ ? RowMat(a.transpose()) : RowMat(a);
      if (!transB_) gb.noalias() = alpha_ * aop.transpose() * gy;
      else gb.noalias() = alpha_ * gy.transpose() * aop;
    }
    if (gradIn.size() > 2 && gradIn[2] && in.size() > 2 && in[2]) {
      const Tensor& C = *in[2];
      gradIn[2]->resize(DType::Float, C.shape());
      gradIn[2]->setZero();
      Shape cs = C.shape();
      while (cs.size() < 2) cs.insert(cs.begin(), 1);
      int64_t cr = cs[0], cc = cs[1];
      float* gc = gradIn[2]->f();
      for (int64_t i = 0; i < gy.rows(); ++i)
        for (int64_t j = 0; j < gy.cols(); ++j) gc[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)] += beta_ * gy(i, j);
    }
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.size() < 2 || in[0].size() != 2 || out.empty() || out[0].size() != 2) return 0;
    int64_t K = transA_ ? in[0][0] : in[0][1];
    double f = 2.0 * static_cast<double>(out[0][0]) * static_cast<double>(out[0][1]) * static_cast<double>(K);
    if (in.size() > 2 && !in[2].empty()) f += static_cast<double>(out[0][0] * out[0][1]);
    return f;
  }

 private:
  float alpha_, beta_;
  bool transA_, transB_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createGemm(const Node& node, int) {
  return make<Gemm>(node.attrFloat("alpha", 1.f), node.attrFloat("beta", 1.f), node.attrInt("transA", 0) != 0,
                    node.attrInt("transB", 0) != 0);
}

}  // namespace topiary::ops
