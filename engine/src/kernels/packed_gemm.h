// Dense y = act(init + op(A) * alpha op(B)) for a constant op(B) (frozen
// Gemm weights), with op(B) packed once into the layout the register-blocked
// micro-kernel reads: Eigen and MLAS repack B on every call or keep a packed
// copy per call site; here the copy is made when the weights are frozen and
// reused by every batch.
//
// Layout: op(B) (K x N) cut into K blocks of at most kKBlock rows; inside a
// block, panels of 32 columns, each stored k-major (32 contiguous floats per
// k, zero-padded past N; a last panel of at most 16 columns is 16 wide). A
// micro-kernel keeps rows x 32 outputs in registers and, per k, loads 32
// weights once for all its rows and broadcasts one activation per row. A is
// read in place (row-major, not packed): the tile's activations are reused
// across the panels of a block while the panels stream from L2, and a single
// tile (M = 12, its activations all in L1) runs no faster than M = 256
// (115 GFLOP/s both at K = 784, N = 304), so packing A has nothing to gain.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/activation.h"

namespace topiary::kernels {

class PackedGemm {
 public:
  // Rows of op(B) per K block at most (blocks of near-equal size): one block
  // for K = 784 measured 4% faster than blocks of 256 at 256 x 784 x 300.
  static constexpr int64_t kKBlock = 1024;
  static constexpr int64_t kPanel = 32;  // columns per panel (two 16-float vectors)

  // Packs alpha * op(B): B is stored K x N (row stride ldb >= N), or N x K
  // when transB (ldb >= K). Allocates; call once per weight tensor.
  void pack(const float* b, int64_t K, int64_t N, int64_t ldb, bool transB, float alpha);
  bool empty() const { return N_ == 0; }
  int64_t K() const { return K_; }
  int64_t N() const { return N_; }
  void clear();

  // y (M x N, row stride ldy >= N) = act(init + A * packed), A stored M x K
  // (row stride lda >= K). init is y itself, or, when biasRow is given, that
  // row of N values for every output row (y is then only written). act may be
  // null (none). Splits rows (or panels when M is small) over `threads`; no
  // heap allocation.
  void run(int64_t M, const float* a, int64_t lda, float* y, int64_t ldy, const float* biasRow, const Activation* act,
           int threads) const;

 private:
  void runRows(int64_t m0, int64_t m1, int64_t p0, int64_t p1, const float* a, int64_t lda, float* y, int64_t ldy,
               const float* biasRow, const Activation* act) const;

  // First row of K block kb (blocks of near-equal size).
  int64_t blockStart(int64_t kb) const { return K_ * kb / kBlocks_; }

  int64_t K_ = 0, N_ = 0, panels_ = 0;
  int64_t width_ = 0, lastWidth_ = 0;  // padded N; width of the last panel (16 or 32)
  int64_t kBlocks_ = 0;
  std::vector<float> packed_;  // [K blocks][panels][rows of the block][panel width]
};

}  // namespace topiary::kernels
