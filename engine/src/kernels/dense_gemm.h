// Dense y += alpha * op(A) * op(B) on row-major float matrices with no heap
// allocation once warm: Eigen's GEMM allocates its packing buffers on every
// call (on the heap above 128 KB, and always when it runs on several
// threads), so this keeps one set of buffers per worker and shape (Eigen's
// own blocking object, sized by Eigen for the shape) and splits the work
// over the threads itself: rows of the output when there are enough,
// columns otherwise. A single output row is a matrix-vector product.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace topiary::kernels {

class DenseGemm {
 public:
  DenseGemm();
  ~DenseGemm();
  DenseGemm(DenseGemm&&) noexcept;
  DenseGemm& operator=(DenseGemm&&) noexcept;

  // y (M x N, row stride ldy) += alpha * op(A) * op(B), op(A) M x K and
  // op(B) K x N. A is stored M x K (lda >= K), or K x M when transA (lda >= M);
  // B is stored K x N (ldb >= N), or N x K when transB (ldb >= K).
  void run(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, bool transA, const float* b, int64_t ldb,
           bool transB, float* y, int64_t ldy, float alpha, int threads);

 private:
  struct Blocks;
  std::vector<std::unique_ptr<Blocks>> blocks_;  // one per worker
  int64_t shape_[4] = {-1, -1, -1, -1};          // M, N, K, threads the blocks were sized for
};

}  // namespace topiary::kernels
