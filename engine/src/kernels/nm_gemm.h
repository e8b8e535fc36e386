// N:M (at most 2 of every 4) sparse weights for Gemm: Y[M, N] += A[M, K] *
// W[N, K]^T, W pruned along K (the pruner's groups: 4 consecutive inputs of
// one output). Outputs go 16 per vector; for each group of 4 inputs the
// four values A[m, 4g..4g+3] are loaded once (one 16-byte broadcast) and
// shared by the 16 outputs of the block: two in-register permutes pick, per
// output lane, the input its first and second nonzero read, and two
// multiply-adds use them. So each input load serves 16 outputs and each
// output costs 2 multiply-adds per group instead of 4, and the weights
// take 2 floats + 1 index byte per output and group instead of 4 floats
// (a matrix-vector product at batch 1 reads 44% fewer bytes).
//
// From kBatchRows rows of A on, the permutes cost as much as the
// multiply-adds they save (M = 256, K = 784, N = 300: 1.12 ms, as slow as
// the packed dense kernel), so whole blocks of kBatchRows rows take a second
// form: A's rows go in the vector lanes (the block transposed once, [K][64],
// 64-byte aligned), and each output's kept weights are a list of (value,
// input) slots, 2 per group; a slot is one broadcast times the 4 vectors of
// input k's row. 4 outputs x 4 vectors stay in registers, so each
// multiply-add reads one L1 vector and no permute. Measured against the
// packed dense kernel at M = 256, one thread: 1.35-1.54x on the demo
// models' Gemm shapes. When 32 rows or more remain after the blocks of
// kBatchRows, they take the same form with 2 vectors of rows: on two
// threads a batch runs in chunks of 32 rows, where the permute form was
// 0.93-0.94x of the packed kernel and this one is 1.14-1.36x (784 -> 300:
// 140.7 -> 100.7 us against 132.3; outputs of 10 stay with packed).
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct NmGemmPlan {
  int64_t N = 0, K = 0, groups = 0, blocks = 0;  // groups = ceil(K / 4), blocks = ceil(N / 16)
  // Per block of 16 outputs and group: the first and second nonzero of each
  // output (0 when it has fewer), as [blocks][groups][2][16] ...
  std::vector<float> values;
  // ... and their offsets in the group, one byte per output: first in bits
  // 0-1, second in bits 4-5 ([blocks][groups][16]).
  std::vector<uint8_t> index;
  // The batched form (rows of A in lanes): per block of kSlotOutputs outputs,
  // per slot (2 per group; a missing nonzero is a zero weight on the
  // group's first input), the weights [outputBlocks][slots][kSlotOutputs]
  // and their inputs k. Empty when K does not fit 16 bits.
  static constexpr int kSlotOutputs = 4;
  static constexpr int64_t kBatchRows = 64;
  int64_t slotCount = 0;  // 2 per group
  std::vector<float> slotValues;
  std::vector<uint16_t> slotInputs;

 private:
  mutable std::vector<std::vector<float>> scratch_;  // runAll(): per slot of kernels::runPieces

 public:
  // From W [N, K] (row n = output n). False unless every group of 4
  // consecutive entries of each row holds at most 2 nonzeros.
  static bool build(const float* w, int64_t N, int64_t K, NmGemmPlan& out);
  // Output blocks [b0, b1): Y[m, n] += sum_k A[m, k] W[n, k] for m < M, A rows
  // lda apart, Y rows ldy apart. Whole blocks of kBatchRows rows, then one
  // of kBatchRows / 2 if that many remain, run in the batched form
  // (allocating its scratch for the call), the rest by rows.
  void run(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0, int64_t b1) const;
  // Every output block, over `threads`: the batched blocks of rows (as in
  // run()) split over the threads (each transposes only its own rows of A),
  // the rest of the rows by output blocks. Keeps the batched form's scratch
  // per thread slot between calls (no allocation once warm), so one plan
  // must not run two runAll() at once.
  void runAll(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int threads) const;
  // Floats of scratch one block of kBatchRows rows needs.
  int64_t batchScratchFloats() const;
  // The same with plain loops (the reference, and builds without AVX-512).
  void runScalar(const float* a, int64_t lda, int64_t M, float* y, int64_t ldy, int64_t b0, int64_t b1) const;
};

}  // namespace topiary::kernels
