// Gemm: Y = alpha * op(A) * op(B) + beta * C, op = optional transpose, C
// unidirectionally broadcast to Y. The inner product is Eigen's GEMM over
// row-major maps of our buffers; with frozen weights (the inference
// optimiser) a copy of op(B) packed for our own micro-kernel
// (kernels/packed_gemm.h), a CSR form of op(B), and an N:M one when op(B) is
// 2:4 along its inputs (kernels/nm_gemm.h), are timed against it on the
// first batch (up to kWindowRows rows also a windowed sparse form made for
// matrix-vector products, kernels/sparse_window.h), and a fused activation
// may follow.
#include <Eigen/Core>
#include <algorithm>
#include <cstdio>

#include "kernels/activation.h"
#include "kernels/dense_gemm.h"
#include "kernels/kernel_choice.h"
#include "kernels/nm_gemm.h"
#include "kernels/packed_gemm.h"
#include "kernels/parallel_product.h"
#include "kernels/sparse_matrix.h"
#include "kernels/sparse_window.h"
#include "kernels/threading.h"
#include "kernels/tune_key.h"
#include "ops/common.h"
#include "ops/nn/nn_ops.h"
#include "topiary/kernel_tune_cache.h"

namespace topiary::ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;

class Gemm final : public Kernel, public kernels::KernelChoice {
 public:
  // frozen / forced: as for Conv (forced is "dense", "packed", "csr",
  // "csr-window" or "2:4").
  // constantBias: C is absent or an initializer (the inference optimiser
  // marks it), so its packed bias row is built once.
  // flattenA: A of any rank >= 2 is read as [dim 0, the rest] (the
  // inference optimiser folds a Flatten(axis 1) that only this Gemm reads).
  Gemm(float alpha, float beta, bool transA, bool transB, kernels::Activation act, bool frozen, std::string forced,
       bool constantBias, bool flattenA)
      : alpha_(alpha),
        beta_(beta),
        transA_(transA),
        transB_(transB),
        act_(act),
        frozen_(frozen),
        constantBias_(constantBias),
        flattenA_(flattenA),
        forced_(std::move(forced)) {}

  std::string kernelChoice() const override { return choice_; }

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Gemm"));
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    TOPIARY_RETURN_IF_ERROR(expectFloat(A, "Gemm", "A"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(B, "Gemm", "B"));
    if ((flattenA_ ? A.rank() < 2 || transA_ : A.rank() != 2) || B.rank() != 2)
      return Status::badInput("Gemm needs 2-D inputs, got " + shapeToString(A.shape()) + " and " +
                              shapeToString(B.shape()));
    const int64_t rowsA = A.dim(0);
    int64_t colsA = 1;  // A as 2-D (also with no rows)
    for (int d = 1; d < A.rank(); ++d) colsA *= A.dim(d);
    int64_t M = transA_ ? colsA : rowsA, K = transA_ ? rowsA : colsA;
    int64_t Kb = transB_ ? B.dim(1) : B.dim(0), N = transB_ ? B.dim(0) : B.dim(1);
    if (K != Kb)
      return Status::badInput("Gemm inner dimensions differ: A " + shapeToString(A.shape()) + ", B " +
                              shapeToString(B.shape()));
    Tensor& Y = *out[0];
    Y.resize(DType::Float, {M, N});
    MMap y(Y.f(), M, N);
    CMap a(A.f(), rowsA, colsA);
    CMap b(B.f(), B.dim(0), B.dim(1));
    // Bias first, then accumulate the product in place (no temporary).
    const Tensor* C = in.size() > 2 ? in[2] : nullptr;
    const bool hasC = C && beta_ != 0.f && C->numel() > 0;
    int64_t cr = 1, cc = 1;
    if (hasC) {
      TOPIARY_RETURN_IF_ERROR(expectFloat(*C, "Gemm", "C"));
      // C broadcasts to [M, N] when it has at most 2 dims, each 1 or equal
      // (checked without building shapes: a warm run allocates nothing).
      const Shape& cs = C->shape();
      cr = cs.size() == 2 ? cs[0] : 1, cc = cs.empty() ? 1 : cs.back();
      if (cs.size() > 2 || (cr != 1 && cr != M) || (cc != 1 && cc != N))
        return Status::badInput("Gemm bias of shape " + shapeToString(C->shape()) + " does not broadcast to " +
                                shapeToString({M, N}));
    }
    auto fillBias = [&] {
      if (!hasC) {
        y.setZero();
        return;
      }
      const float* c = C->f();
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) y(i, j) = beta_ * c[(cr == 1 ? 0 : i) * cc + (cc == 1 ? 0 : j)];
    };
    const int threads = kernels::threadsFor(2.0 * static_cast<double>(M * N * K), ctx.threads);
    kernels::ThreadsScope scope(threads);
    bool filled = false;
    // Re-timed when the rows move to another class: 1, up to kWindowRows, more.
    const int64_t rowClass = M == 1 ? 1 : M <= kWindowRows ? 2 : 3;
    if (frozen_ && !transA_ && tunedRows_ != rowClass) {
      // Time each kernel on the real input, starting from the bias each time.
      tunedRows_ = rowClass;
      fillBias();
      filled = true;
      buildSparse(b);
      RowMat start = y;
      double best = 1e300;
      std::vector<Mode> modes{Mode::Dense, Mode::Packed};
      if (csr_.rows) modes.push_back(Mode::Csr);
      if (nm_.blocks > 0) modes.push_back(Mode::Nm);
      // The windowed form runs one matrix-vector product per row; past
      // kWindowRows the CSR rows times the transposed batch, which reuse
      // each weight across the rows, are faster.
      if (csr_.rows && M <= kWindowRows) modes.push_back(Mode::Window);
      if (forced_ == "dense") modes = {Mode::Dense};
      if (forced_ == "packed") modes = {Mode::Packed};
      if (forced_ == "csr" && csr_.rows) modes = {Mode::Csr};
      if (forced_ == "2:4" && nm_.blocks > 0) modes = {Mode::Nm};
      if (forced_ == "csr-window" && csr_.rows) modes = {Mode::Window};
      // A layer seen before (same shapes, zero pattern) reuses its choice.
      // Only layers with sparse candidates are cached, as before the packed
      // kernel (engine_tune_cache counts the entries): dense weights re-time
      // dense against packed per executor, a few runs of the layer.
      std::string key;
      if (ctx.tuneCache && modes.size() > 1 && csr_.rows) {
        key = kernels::TuneKey("Gemm")
                  .add(tunedRows_)
                  .add(threads)
                  .add(K)
                  .add(N)
                  .add(transB_)
                  .add(static_cast<int64_t>(act_.kind))
                  .addZeroPattern(B.f(), B.numel())
                  .str();
        const int hit = ctx.tuneCache->find(key);
        if (std::find(modes.begin(), modes.end(), static_cast<Mode>(hit)) != modes.end())
          modes = {static_cast<Mode>(hit)};
      }
      if (std::find(modes.begin(), modes.end(), Mode::Packed) != modes.end() && packed_.empty())
        packed_.pack(b.data(), K, N, b.cols(), transB_, alpha_);
      if (std::find(modes.begin(), modes.end(), Mode::Window) != modes.end() && window_.blocks == 0)
        window_ = kernels::SparseWindowPlan::build(csrDense().data(), N, K);
      mode_ = modes.front();
      for (Mode m : modes) {
        double t = modes.size() == 1 ? 0.0 : kernels::fastestOf(3, [&] {
          y = start;
          product(a, b, y, M, N, K, threads, m, nullptr);
          // Timed with the activation, as each mode runs: the packed kernel
          // applies it in its stores, the others in a pass after.
          if (!act_.none() && m != Mode::Packed) act_.apply(y.data(), M * N);
        });
        if (t < best) {
          best = t;
          mode_ = m;
        }
      }
      y = start;
      if (mode_ != Mode::Packed) packed_.clear();  // the copy of the weights is only kept when it is used
      if (mode_ != Mode::Window) window_ = kernels::SparseWindowPlan{};
      if (!key.empty()) ctx.tuneCache->store(key, static_cast<int>(mode_));
      const char* name = mode_ == Mode::Dense    ? "dense"
                         : mode_ == Mode::Packed ? "packed"
                         : mode_ == Mode::Csr    ? "csr"
                         : mode_ == Mode::Window ? "csr-window"
                                                 : "2:4";
      choice_ = name;
      if (csr_.rows) {  // weights sparse enough for the sparse forms: their density too
        char pct[16];
        std::snprintf(pct, sizeof pct, " %.0f%%", 100.0 * density_);
        choice_ += pct;
      }
    }
    const Mode mode = transA_ ? Mode::Dense : mode_;
    // The packed kernel starts its accumulators from one bias row (when all
    // rows share it) instead of reading back a prefilled output. The row is
    // built in the tuning run too (which prefilled the output), so that a
    // later run allocates nothing: a shard of a split batch may run only
    // its warm-up before a run that is counted.
    const float* row = mode == Mode::Packed && cr == 1 ? packedBias(hasC ? C : nullptr, cc, N) : nullptr;
    const float* biasRow = filled ? nullptr : row;
    if (!filled && !biasRow) fillBias();
    product(a, b, y, M, N, K, threads, mode, biasRow);
    if (!act_.none() && mode != Mode::Packed) act_.apply(Y.f(), M * N);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    if (!act_.none() || flattenA_)
      return Status::unsupported("a Gemm with a fused activation or Flatten (inference only) has no backward");
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
      if (!transA_)
        kernels::productRows(ga, alpha_ * gy, bop.transpose(), ctx.threads);
      else
        kernels::productRows(ga, alpha_ * bop, gy.transpose(), ctx.threads);
    }
    if (gradIn.size() > 1 && gradIn[1]) {
      gradIn[1]->resize(DType::Float, B.shape());
      MMap gb(gradIn[1]->f(), B.dim(0), B.dim(1));
      RowMat aop = transA_ ? RowMat(a.transpose()) : RowMat(a);
      if (!transB_)
        kernels::productRows(gb, alpha_ * aop.transpose(), gy, ctx.threads);
      else
        kernels::productRows(gb, alpha_ * gy.transpose(), aop, ctx.threads);
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

  enum class Mode { Dense, Csr, Nm, Packed, Window };  // values kept in tune caches: append only

  // y += alpha * op(A) * op(B). The sparse form computes the transposed
  // product (weights as CSR rows times the batch transposed, so each
  // nonzero scales a contiguous row) and adds its transpose. The packed
  // form also applies the activation, and starts from biasRow instead of y
  // when given.
  void product(const CMap& a, const CMap& b, MMap& y, int64_t M, int64_t N, int64_t K, int threads, Mode mode,
               const float* biasRow) {
    if (mode == Mode::Packed) return packed_.run(M, a.data(), a.cols(), y.data(), N, biasRow, &act_, threads);
    if (mode == Mode::Nm)  // A as it is (not transposed); split by rows or outputs (kernels/nm_gemm.h)
      return nm_.runAll(a.data(), K, M, y.data(), N, threads);
    if (mode == Mode::Window)  // A as it is, split by blocks of 16 outputs
      return parallelFor(window_.blocks, threads,
                         [&](int64_t b0, int64_t b1) { window_.run(a.data(), a.cols(), M, y.data(), N, b0, b1); });
    if (mode == Mode::Csr) {
      aT_.resize(static_cast<size_t>(K * M));
      yT_.resize(static_cast<size_t>(N * M));
      MMap(aT_.data(), K, M).noalias() = a.transpose();
      parallelFor(N, threads, [&](int64_t r0, int64_t r1) {
        kernels::csrTimesDense(csr_, aT_.data(), M, M, yT_.data(), M, r0, r1);
      });
      y.noalias() += MMap(yT_.data(), N, M).transpose();
      return;
    }
    // Eigen's GEMM with packing buffers kept between runs (kernels/dense_gemm.h).
    dense_.run(M, N, K, a.data(), a.cols(), transA_, b.data(), b.cols(), transB_, y.data(), N, alpha_, threads);
  }

  // beta * C as one row (C absent, or one row of cc = 1 or N values), for
  // the packed kernel. Built again only when C may have changed: on every
  // call unless C is an initializer (constantBias_), then only for another
  // tensor.
  const float* packedBias(const Tensor* C, int64_t cc, int64_t N) {
    const float* c = C ? C->f() : nullptr;
    if (!constantBias_ || c != biasOf_ || static_cast<int64_t>(bias_.size()) != N) {
      bias_.resize(static_cast<size_t>(N));
      for (int64_t j = 0; j < N; ++j) bias_[static_cast<size_t>(j)] = c ? beta_ * c[cc == 1 ? 0 : j] : 0.f;
      biasOf_ = c;
    }
    return bias_.data();
  }

  // alpha * op(B) as [N, K] again, from its CSR form.
  std::vector<float> csrDense() const {
    std::vector<float> w(static_cast<size_t>(csr_.rows * csr_.cols), 0.f);
    for (int64_t r = 0; r < csr_.rows; ++r)
      for (int64_t i = csr_.rowStart[static_cast<size_t>(r)]; i < csr_.rowStart[static_cast<size_t>(r + 1)]; ++i)
        w[static_cast<size_t>(r * csr_.cols + csr_.colIndex[static_cast<size_t>(i)])] =
            csr_.values[static_cast<size_t>(i)];
    return w;
  }

  // CSR of alpha * op(B) (rows = outputs) when sparse enough; once.
  void buildSparse(const CMap& b) {
    if (sparseBuilt_) return;
    sparseBuilt_ = true;
    RowMat w = transB_ ? RowMat(alpha_ * b) : RowMat(alpha_ * b.transpose());
    density_ = kernels::density(w.data(), w.size());
    if (density_ <= kMaxSparseDensity || !forced_.empty()) {
      csr_ = kernels::CsrMatrix::fromDense(w.data(), w.rows(), w.cols());
      if (!kernels::NmGemmPlan::build(w.data(), w.rows(), w.cols(), nm_)) nm_ = kernels::NmGemmPlan{};
    }
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.size() < 2 || in[0].size() < 2 || (in[0].size() > 2 && !flattenA_) || out.empty() || out[0].size() != 2)
      return 0;
    int64_t K = transA_ ? in[0][0] : in[0][1];
    for (size_t d = 2; d < in[0].size(); ++d) K *= in[0][d];  // A read flattened
    double f = 2.0 * static_cast<double>(out[0][0]) * static_cast<double>(out[0][1]) * static_cast<double>(K);
    if (in.size() > 2 && !in[2].empty()) f += static_cast<double>(out[0][0] * out[0][1]);
    return f;
  }

 private:
  float alpha_, beta_;
  bool transA_, transB_;
  kernels::Activation act_;  // fused by the inference optimiser; none otherwise
  // Frozen weights: CSR form and the kernel picked per batch size.
  static constexpr double kMaxSparseDensity = 0.75;
  // Rows up to which the windowed form is timed. One thread, 90% zeros,
  // 400 -> 120 outputs (lenet5's fc1): 4 rows (a batch of 256 runs in
  // chunks of 4 on a convolutional graph) 3.5 us against 8.2 for CSR and
  // 8.5 packed; 8 rows 4.7 against 6.4; 16 rows 8.9 against CSR's 6.7.
  static constexpr int64_t kWindowRows = 8;
  bool frozen_ = false, constantBias_ = false, sparseBuilt_ = false, flattenA_ = false;
  std::string forced_;
  double density_ = 1;
  kernels::CsrMatrix csr_;
  kernels::SparseWindowPlan window_;  // built when timed (up to kWindowRows rows); kept only when chosen
  kernels::NmGemmPlan nm_;  // blocks == 0 unless op(B) is N:M (at most 2 of 4) along its inputs
  Mode mode_ = Mode::Dense;
  int64_t tunedRows_ = -1;  // the row class mode_ was timed for (see forward)
  std::string choice_ = "dense";
  kernels::DenseGemm dense_;
  kernels::PackedGemm packed_;     // alpha * op(B) in the micro-kernel's layout; empty unless chosen
  std::vector<float> bias_;        // beta * C as one row, when C has one row and the packed kernel runs
  const float* biasOf_ = nullptr;  // the C data bias_ was built from
  std::vector<float> aT_, yT_;     // scratch of the sparse form
};

}  // namespace

Result<std::unique_ptr<Kernel>> createGemm(const Node& node, int) {
  kernels::Activation act;
  TOPIARY_RETURN_IF_ERROR(kernels::Activation::fromNode(node, act));
  return make<Gemm>(node.attrFloat("alpha", 1.f), node.attrFloat("beta", 1.f), node.attrInt("transA", 0) != 0,
                    node.attrInt("transB", 0) != 0, act, node.attrInt("topiary.frozen", 0) != 0,
                    node.attrString("topiary.kernel", ""),
                    node.inputs.size() < 3 || node.inputs[2].empty() || node.attrInt("topiary.constant_bias", 0) != 0,
                    node.attrInt("topiary.flatten_a", 0) != 0);
}

}  // namespace topiary::ops
