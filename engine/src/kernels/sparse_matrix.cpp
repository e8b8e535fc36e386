#include "kernels/sparse_matrix.h"

#include <algorithm>
#include <cstring>

#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

// One output row: y[0..n) = sum over the row's nonzeros k of value_k * x[col_k][0..n).
// `Entry(i, value, col)` yields the i-th nonzero. Columns of 64 are kept in
// four registers across all nonzeros, so X is read once per nonzero and Y
// written once.
template <class Entry>
inline void sparseRow(int64_t count, Entry entry, const float* x, int64_t n, int64_t ldx, float* y) {
  int64_t p = 0;
  for (; p + 64 <= n; p += 64) {
    v16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int64_t i = 0; i < count; ++i) {
      float v;
      int64_t c;
      entry(i, v, c);
      const float* xr = x + c * ldx + p;
      a0 += v * load16(xr);
      a1 += v * load16(xr + 16);
      a2 += v * load16(xr + 32);
      a3 += v * load16(xr + 48);
    }
    store16(y + p, a0);
    store16(y + p + 16, a1);
    store16(y + p + 32, a2);
    store16(y + p + 48, a3);
  }
  for (; p + 16 <= n; p += 16) {
    v16 a0 = {};
    for (int64_t i = 0; i < count; ++i) {
      float v;
      int64_t c;
      entry(i, v, c);
      a0 += v * load16(x + c * ldx + p);
    }
    store16(y + p, a0);
  }
  if (p < n) {  // the last 1-15 outputs: masked loads and store, nothing past n read or written
    v16 a0 = {};
    const int64_t rest = n - p;
    for (int64_t i = 0; i < count; ++i) {
      float v;
      int64_t c;
      entry(i, v, c);
      a0 += v * loadPrefix(x + c * ldx + p, rest);
    }
    storePrefix(y + p, a0, rest);
  }
}

}  // namespace

double density(const float* w, int64_t count) {
  if (count <= 0) return 0;
  int64_t nz = 0;
  for (int64_t i = 0; i < count; ++i) nz += w[i] != 0.f;
  return static_cast<double>(nz) / static_cast<double>(count);
}

bool hasNmPattern(const float* w, int64_t rows, int64_t cols, int n, int m) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < cols; g += m) {
      int nz = 0;
      for (int64_t k = g; k < std::min<int64_t>(cols, g + m); ++k) nz += w[r * cols + k] != 0.f;
      if (nz > n) return false;
    }
  return true;
}

CsrMatrix CsrMatrix::fromDense(const float* w, int64_t rows, int64_t cols) {
  CsrMatrix s;
  s.rows = rows;
  s.cols = cols;
  s.rowStart.reserve(static_cast<size_t>(rows + 1));
  s.rowStart.push_back(0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < cols; ++k) {
      float v = w[r * cols + k];
      if (v == 0.f) continue;
      s.colIndex.push_back(static_cast<int32_t>(k));
      s.values.push_back(v);
    }
    s.rowStart.push_back(static_cast<int64_t>(s.values.size()));
  }
  return s;
}

bool NmMatrix::fromDense(const float* w, int64_t rows, int64_t cols, int n, int m, NmMatrix& out) {
  if (n < 1 || m < n || m > 255 || !hasNmPattern(w, rows, cols, n, m)) return false;
  out = NmMatrix{};
  out.rows = rows;
  out.cols = cols;
  out.n = n;
  out.m = m;
  out.groups = (cols + m - 1) / m;
  const size_t total = static_cast<size_t>(rows * out.groups * n);
  out.values.assign(total, 0.f);
  out.offsets.assign(total, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < out.groups; ++g) {
      size_t slot = static_cast<size_t>((r * out.groups + g) * n);
      for (int64_t k = g * m; k < std::min<int64_t>(cols, (g + 1) * m); ++k) {
        float v = w[r * cols + k];
        if (v == 0.f) continue;
        out.values[slot] = v;
        out.offsets[slot] = static_cast<uint8_t>(k - g * m);
        ++slot;
      }
    }
  return true;
}

void csrTimesDense(const CsrMatrix& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
                   int64_t r1) {
  if (n == 1) {
    // A single column (batch of one through a Gemm): a sparse dot product
    // per row, four partial sums to break the dependency chain.
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t begin = w.rowStart[static_cast<size_t>(r)], end = w.rowStart[static_cast<size_t>(r + 1)];
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = begin;
      for (; i + 4 <= end; i += 4) {
        s0 += w.values[static_cast<size_t>(i)] * x[w.colIndex[static_cast<size_t>(i)] * ldx];
        s1 += w.values[static_cast<size_t>(i + 1)] * x[w.colIndex[static_cast<size_t>(i + 1)] * ldx];
        s2 += w.values[static_cast<size_t>(i + 2)] * x[w.colIndex[static_cast<size_t>(i + 2)] * ldx];
        s3 += w.values[static_cast<size_t>(i + 3)] * x[w.colIndex[static_cast<size_t>(i + 3)] * ldx];
      }
      for (; i < end; ++i) s0 += w.values[static_cast<size_t>(i)] * x[w.colIndex[static_cast<size_t>(i)] * ldx];
      y[r * ldy] = (s0 + s1) + (s2 + s3);
    }
    return;
  }
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t begin = w.rowStart[static_cast<size_t>(r)];
    const float* vals = w.values.data() + begin;
    const int32_t* cols = w.colIndex.data() + begin;
    sparseRow(
        w.rowStart[static_cast<size_t>(r + 1)] - begin,
        [&](int64_t i, float& v, int64_t& c) {
          v = vals[i];
          c = cols[i];
        },
        x, n, ldx, y + r * ldy);
  }
}

namespace {

// NN, MM > 0: compile-time group shape (2:4), so the column is a shift and an add.
template <int NN, int MM>
void nmRows(const NmMatrix& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0, int64_t r1) {
  const int64_t nn = NN > 0 ? NN : w.n, mm = MM > 0 ? MM : w.m;
  const int64_t perRow = w.groups * nn;
  for (int64_t r = r0; r < r1; ++r) {
    const float* vals = w.values.data() + r * perRow;
    const uint8_t* offs = w.offsets.data() + r * perRow;
    // Padding slots hold value 0 at offset 0, a valid row: no branch needed.
    sparseRow(
        perRow,
        [&](int64_t i, float& v, int64_t& c) {
          v = vals[i];
          c = (i / nn) * mm + offs[i];
        },
        x, n, ldx, y + r * ldy);
  }
}

}  // namespace

void nmTimesDense(const NmMatrix& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
                  int64_t r1) {
  if (w.n == 2 && w.m == 4)
    nmRows<2, 4>(w, x, n, ldx, y, ldy, r0, r1);
  else
    nmRows<0, 0>(w, x, n, ldx, y, ldy, r0, r1);
}

}  // namespace topiary::kernels
