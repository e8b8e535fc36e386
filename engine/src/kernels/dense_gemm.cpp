#include "kernels/dense_gemm.h"

#include <Eigen/Core>
#include <algorithm>

#include "ops/common.h"

namespace topiary::kernels {

namespace ei = Eigen::internal;
using Blocking = ei::gemm_blocking_space<Eigen::RowMajor, float, float, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic>;

struct DenseGemm::Blocks {
  Blocking blocking;
  Blocks(int64_t m, int64_t n, int64_t k) : blocking(m, n, k, 1, true) { blocking.allocateAll(); }
};

DenseGemm::DenseGemm() = default;
DenseGemm::~DenseGemm() = default;
DenseGemm::DenseGemm(DenseGemm&&) noexcept = default;
DenseGemm& DenseGemm::operator=(DenseGemm&&) noexcept = default;

namespace {

// One block of the product on the calling thread, through Eigen's
// single-threaded GEMM with the caller's packing buffers.
template <int LhsOrder, int RhsOrder>
void gemmBlock(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* y,
               int64_t ldy, float alpha, Blocking& blocking) {
  ei::general_matrix_matrix_product<Eigen::Index, float, LhsOrder, false, float, RhsOrder, false, Eigen::RowMajor,
                                    1>::run(m, n, k, a, lda, b, ldb, y, 1, ldy, alpha, blocking, nullptr);
}

void block(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transA, const float* b, int64_t ldb,
           bool transB, float* y, int64_t ldy, float alpha, Blocking& blocking) {
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
  // op(A) stored K x M row-major is op(A) column-major; the same for B.
  if (!transA && !transB) gemmBlock<R, R>(m, n, k, a, lda, b, ldb, y, ldy, alpha, blocking);
  else if (!transA && transB) gemmBlock<R, C>(m, n, k, a, lda, b, ldb, y, ldy, alpha, blocking);
  else if (transA && !transB) gemmBlock<C, R>(m, n, k, a, lda, b, ldb, y, ldy, alpha, blocking);
  else gemmBlock<C, C>(m, n, k, a, lda, b, ldb, y, ldy, alpha, blocking);
}

}  // namespace

void DenseGemm::run(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, bool transA, const float* b,
                    int64_t ldb, bool transB, float* y, int64_t ldy, float alpha, int threads) {
  if (M <= 0 || N <= 0 || K <= 0) return;
  if (M == 1 && !transA && ldy >= N) {
    // y^T += alpha * op(B)^T a^T: one matrix-vector product, no buffers.
    Eigen::Map<const Eigen::VectorXf> av(a, K);
    Eigen::Map<Eigen::VectorXf> yv(y, N);
    using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using Strided = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
    if (transB)
      yv.noalias() += alpha * (Strided(b, N, K, Eigen::OuterStride<>(ldb)) * av);
    else
      yv.noalias() += alpha * (Strided(b, K, N, Eigen::OuterStride<>(ldb)).transpose() * av);
    return;
  }
  const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, std::max(M, N))));
  // Rows when each worker gets at least 4; columns otherwise.
  const bool byRows = M >= 4 * T || M >= N;
  const int64_t parts = byRows ? std::min<int64_t>(T, M) : std::min<int64_t>(T, N);
  const int64_t pm = byRows ? (M + parts - 1) / parts : M, pn = byRows ? N : (N + parts - 1) / parts;
  if (shape_[0] != pm || shape_[1] != pn || shape_[2] != K || shape_[3] != parts) {
    blocks_.clear();
    for (int64_t t = 0; t < parts; ++t) blocks_.push_back(std::make_unique<Blocks>(pm, pn, K));
    shape_[0] = pm, shape_[1] = pn, shape_[2] = K, shape_[3] = parts;
  }
  topiary::ops::parallelFor(parts, static_cast<int>(parts), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      Blocking& bl = blocks_[static_cast<size_t>(t)]->blocking;
      if (byRows) {
        const int64_t m0 = t * pm, m1 = std::min(M, m0 + pm);
        if (m0 >= m1) continue;
        block(m1 - m0, N, K, transA ? a + m0 : a + m0 * lda, lda, transA, b, ldb, transB, y + m0 * ldy, ldy, alpha,
              bl);
      } else {
        const int64_t n0 = t * pn, n1 = std::min(N, n0 + pn);
        if (n0 >= n1) continue;
        block(M, n1 - n0, K, a, lda, transA, transB ? b + n0 * ldb : b + n0, ldb, transB, y + n0, ldy, alpha, bl);
      }
    }
  });
}

}  // namespace topiary::kernels
