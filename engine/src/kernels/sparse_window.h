// Unstructured sparse weights for a Gemm at small batches:
//   Y[M, N] += A[M, K] * W[N, K]^T,  W pruned element by element.
//
// Outputs go 16 per vector, and the inputs are cut into windows of 32. For
// one block of 16 outputs and one window, slot s holds each output's s-th
// nonzero in that window: its value, and the offset (0..31) of its input
// in the window, one byte. An output with fewer nonzeros there has value 0
// at offset 0. The block keeps as many slots in a window as its fullest
// output needs there, and none for a window where all 16 are zero.
//
// A window's 32 inputs are loaded once into two registers; per slot, one
// two-source permute hands every lane its own input and one multiply-add
// accumulates 16 outputs. So each nonzero costs a lane of a vector
// operation and 5 bytes of weights (value + offset), with no load that
// depends on an index. A row-wise CSR dot product instead loads the input
// a column index names for every nonzero, one dependent scalar load each,
// and at batch 1 was slower than the dense matrix-vector product at 90%
// sparsity (lenet-300-100's fc1: 784 inputs, 300 outputs).
//
// The price is padding: a slot costs the same whether 1 or 16 of its lanes
// hold a nonzero. At 10% density a 16 x 32 tile holds about 51 nonzeros
// and its fullest output about 7, so under half of the lanes do work. The
// outputs are therefore put into blocks by their count of nonzeros
// (fullest first), so that the outputs of a block need similar numbers of
// slots: on the magnitude-pruned demo models' layers at 90% this takes
// 14-27% of the slots away (lenet-300-100's fc1: 4,315 -> 3,553).
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct SparseWindowPlan {
  static constexpr int kWindow = 32;
  int64_t N = 0, K = 0, blocks = 0;  // blocks = ceil(N / 16)
  // Tiles (a block's nonempty windows, in input order): block b's tiles
  // are [tileStart[b], tileStart[b + 1]).
  std::vector<int64_t> tileStart;
  std::vector<int32_t> tileWindow;  // per tile: its window (inputs 32 w .. 32 w + 31)
  std::vector<int64_t> slotStart;   // per tile + 1: its slots are [slotStart[t], slotStart[t + 1])
  std::vector<float> values;        // per slot: 16 values, one per output of the block
  std::vector<uint8_t> offsets;     // per slot: 16 offsets in the window
  std::vector<int32_t> output;      // per lane of every block (N of them): the output it computes

  // From W [N, K] (row n = output n), any pattern.
  static SparseWindowPlan build(const float* w, int64_t N, int64_t K);
  int64_t slotCount() const { return slotStart.empty() ? 0 : slotStart.back(); }
  // Output blocks [b0, b1): Y[m, n] += sum_k A[m, k] W[n, k] for m < M,
  // A rows lda apart, Y rows ldy apart. Reads no input past A[m, K - 1].
  void run(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0, int64_t b1) const;
  // The same with plain loops (the reference, and builds without AVX-512).
  void runScalar(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0, int64_t b1) const;
};

}  // namespace topiary::kernels
