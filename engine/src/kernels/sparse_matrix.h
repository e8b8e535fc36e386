// Sparse weight formats and their product with a dense row-major matrix:
//   Y[rows, n] = W[rows, cols] * X[cols, n]
// which is the shape of a convolution after im2col (X = the column matrix,
// n = output pixels) and of a fully connected layer on a transposed batch.
// Each nonzero scales one contiguous row of X into the output row, so the
// inner loop is a vectorised multiply-add over n (column-major-friendly:
// never a gather across a row-major batch).
//
// CsrMatrix: any pattern (unstructured pruning).
// NmMatrix:  at most N nonzeros in every group of M consecutive weights of a
//            row (2:4 pruning); fixed-size groups, 8-bit offsets, no row
//            pointers.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct CsrMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> rowStart;  // rows + 1 entries
  std::vector<int32_t> colIndex;
  std::vector<float> values;

  static CsrMatrix fromDense(const float* w, int64_t rows, int64_t cols);
  int64_t nonzeros() const { return static_cast<int64_t>(values.size()); }
};

struct NmMatrix {
  int64_t rows = 0, cols = 0;
  int n = 2, m = 4;
  int64_t groups = 0;            // per row: ceil(cols / m)
  std::vector<float> values;     // rows * groups * n (zero-padded)
  std::vector<uint8_t> offsets;  // same layout: offset inside the group

  // False when some group holds more than n nonzeros.
  static bool fromDense(const float* w, int64_t rows, int64_t cols, int n, int m, NmMatrix& out);
};

// Fraction of nonzero entries.
double density(const float* w, int64_t count);
// True when every group of m consecutive entries of each row has at most n nonzeros.
bool hasNmPattern(const float* w, int64_t rows, int64_t cols, int n, int m);

// Rows [r0, r1) of Y = W * X. X rows are `ldx` floats apart, Y rows `ldy`.
// Y rows are overwritten (not accumulated).
void csrTimesDense(const CsrMatrix& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
                   int64_t r1);
void nmTimesDense(const NmMatrix& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
                  int64_t r1);

}  // namespace topiary::kernels
