// Broadcasting shared by the elementwise operators.
//
// A BroadcastPlan describes how up to three operands are read while one
// output is written in row-major order. Output dimensions of size 1 are
// dropped and adjacent dimensions are merged whenever every operand treats
// them alike (all read or all broadcast), so the common cases become short
// loops without index arithmetic:
//   same shape                 -> one flat dimension, both operands stride 1
//   tensor with scalar         -> one flat dimension, the scalar stride 0
//   NCHW with [C,1,1]          -> [N, C, H*W], the channel value fixed per row
//   [..., W] with row [W]      -> [rows, W], the row read contiguously
// Plans live in fixed arrays so building one allocates nothing.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ops/common.h"

namespace topiary::ops {

constexpr int kMaxBroadcastRank = 16;  // after merging; more is Unsupported

template <int N>
struct BroadcastPlan {
  int rank = 1;  // merged rank, >= 1
  int64_t dims[kMaxBroadcastRank] = {1};
  int64_t strides[N][kMaxBroadcastRank] = {};  // element strides, 0 where broadcast
  int64_t numel = 1;
};

// Builds the plan for operands of the given shapes and stores their
// broadcast shape in `out` (reusing its capacity). BadInput when the shapes
// do not broadcast.
template <int N>
Status planBroadcast(const Shape* const (&shapes)[N], Shape& out, BroadcastPlan<N>& plan);

inline Status planBinary(const Shape& a, const Shape& b, Shape& out, BroadcastPlan<2>& plan) {
  const Shape* s[2] = {&a, &b};
  return planBroadcast<2>(s, out, plan);
}

// Walks the output in row-major order, split across threads. For every run
// of `len` consecutive output elements along the innermost merged dimension
// it calls row(outIndex, len, off, step): operand k's first element is at
// off[k] and its following ones step[k] apart (0 or 1).
template <int N, class Row>
void forEachRow(const BroadcastPlan<N>& p, int threads, Row&& row, int64_t grain = 1 << 15) {
  const int r = p.rank;
  const int64_t inner = p.dims[r - 1];
  parallelFor(
      p.numel, threads,
      [&](int64_t begin, int64_t end) {
        int64_t coord[kMaxBroadcastRank];
        int64_t off[N] = {};
        int64_t step[N];
        for (int k = 0; k < N; ++k) step[k] = p.strides[k][r - 1];
        int64_t rem = begin;
        for (int d = r - 1; d >= 0; --d) {
          coord[d] = rem % p.dims[d];
          rem /= p.dims[d];
          for (int k = 0; k < N; ++k) off[k] += coord[d] * p.strides[k][d];
        }
        int64_t i = begin;
        while (i < end) {
          int64_t len = std::min(inner - coord[r - 1], end - i);
          row(i, len, static_cast<const int64_t*>(off), static_cast<const int64_t*>(step));
          i += len;
          if (i >= end) break;
          // Advance the odometer by len (which always finishes the current row).
          for (int k = 0; k < N; ++k) off[k] += (len - inner) * step[k];
          coord[r - 1] = 0;
          for (int d = r - 2; d >= 0; --d) {
            for (int k = 0; k < N; ++k) off[k] += p.strides[k][d];
            if (++coord[d] < p.dims[d]) break;
            for (int k = 0; k < N; ++k) off[k] -= p.dims[d] * p.strides[k][d];
            coord[d] = 0;
          }
        }
      },
      grain);
}

// y = op(a, b) with broadcasting; the inner loops are specialised on which
// operand is fixed along the row so that the compiler can vectorise them.
template <class A, class B, class Y, class Op>
void runBinary(const BroadcastPlan<2>& p, const A* a, const B* b, Y* y, int threads, Op op) {
  forEachRow<2>(p, threads, [&](int64_t i, int64_t len, const int64_t* off, const int64_t* step) {
    const A* pa = a + off[0];
    const B* pb = b + off[1];
    Y* py = y + i;
    if (step[0] && step[1]) {
      for (int64_t j = 0; j < len; ++j) py[j] = op(pa[j], pb[j]);
    } else if (step[0]) {
      const B bv = *pb;
      for (int64_t j = 0; j < len; ++j) py[j] = op(pa[j], bv);
    } else if (step[1]) {
      const A av = *pa;
      for (int64_t j = 0; j < len; ++j) py[j] = op(av, pb[j]);
    } else {
      const Y v = op(*pa, *pb);
      for (int64_t j = 0; j < len; ++j) py[j] = v;
    }
  });
}

// dst = scale * (src summed over the dimensions where dst is broadcast to
// srcShape). dstShape must broadcast to srcShape. Accumulates in double.
// This is the gradient of a broadcast operand, and the core of ReduceMean.
Status sumToShape(const float* src, const Shape& srcShape, float* dst, const Shape& dstShape, int threads,
                  double scale = 1.0);

}  // namespace topiary::ops
