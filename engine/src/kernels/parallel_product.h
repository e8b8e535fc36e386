// Eigen matrix products whose result rows are split over threads by
// ops::parallelFor (kernels/shared_work.h). Eigen's own OpenMP split is off
// (EIGEN_DONT_PARALLELIZE, and no OpenMP in the build): an OpenMP team waits for
// every member at its barrier, and its workers spin on the core our own
// helpers need (training lenet5 on 2 threads ran no faster than on 1 with
// both kinds of threads, and 5-20x slower beside a 2-process build).
#pragma once

#include <cstdint>

#include "kernels/threading.h"
#include "ops/common.h"

namespace topiary::kernels {

// Rows per piece from which splitting pays for packing the right-hand side
// once more per piece.
constexpr int64_t kMinProductRows = 16;

// dst = lhs * rhs, or dst += lhs * rhs when `accumulate`; dst and lhs are
// split by rows (any Eigen expressions with middleRows, e.g. maps,
// transposed maps). Up to `threads` threads, as the work allows.
template <class Dst, class Lhs, class Rhs>
void productRows(Dst dst, const Lhs& lhs, const Rhs& rhs, int threads, bool accumulate = false) {
  const double flops =
      2.0 * static_cast<double>(dst.rows()) * static_cast<double>(dst.cols()) * static_cast<double>(lhs.cols());
  ops::parallelFor(
      dst.rows(), threadsFor(flops, threads),
      [&](int64_t r0, int64_t r1) {
        auto d = dst.middleRows(r0, r1 - r0);
        if (accumulate)
          d.noalias() += lhs.middleRows(r0, r1 - r0) * rhs;
        else
          d.noalias() = lhs.middleRows(r0, r1 - r0) * rhs;
      },
      kMinProductRows);
}

}  // namespace topiary::kernels
