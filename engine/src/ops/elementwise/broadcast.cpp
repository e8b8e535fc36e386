#include "ops/elementwise/broadcast.h"

namespace topiary::ops {

template <int N>
Status planBroadcast(const Shape* const (&shapes)[N], Shape& out, BroadcastPlan<N>& plan) {
  size_t r = 0;
  for (int k = 0; k < N; ++k) r = std::max(r, shapes[k]->size());
  out.resize(r);
  // Operand k's dimension i (right-aligned), 1 where it has fewer dims.
  auto dimOf = [&](int k, size_t i) -> int64_t {
    const Shape& s = *shapes[k];
    size_t lead = r - s.size();
    return i < lead ? 1 : s[i - lead];
  };
  plan = BroadcastPlan<N>();
  plan.rank = 0;
  bool prevRead[N] = {};
  for (size_t i = 0; i < r; ++i) {
    int64_t d = 1;
    for (int k = 0; k < N; ++k) {
      int64_t dk = dimOf(k, i);
      if (dk == 1) continue;
      if (d != 1 && dk != d) {
        std::string msg = "shapes";
        for (int j = 0; j < N; ++j) msg += (j ? " and " : " ") + shapeToString(*shapes[j]);
        return Status::badInput(msg + " do not broadcast (dimension " + std::to_string(i) + ")");
      }
      d = dk;
    }
    out[i] = d;
    if (d == 1) continue;  // contributes nothing to the walk
    bool read[N];
    bool same = plan.rank > 0;
    for (int k = 0; k < N; ++k) {
      read[k] = dimOf(k, i) != 1;
      same = same && read[k] == prevRead[k];
    }
    if (same) {
      plan.dims[plan.rank - 1] *= d;
    } else {
      if (plan.rank == kMaxBroadcastRank)
        return Status::unsupported("broadcast pattern of shapes needs more than " + std::to_string(kMaxBroadcastRank) +
                                   " merged dimensions");
      plan.dims[plan.rank++] = d;
      // Mark broadcast dims with stride 0 now; real strides come below.
      for (int k = 0; k < N; ++k) plan.strides[k][plan.rank - 1] = read[k] ? 1 : 0;
    }
    for (int k = 0; k < N; ++k) prevRead[k] = read[k];
  }
  if (plan.rank == 0) {  // every operand holds one element
    plan.rank = 1;
    plan.dims[0] = 1;
    for (int k = 0; k < N; ++k) plan.strides[k][0] = 1;
  }
  plan.numel = 1;
  for (int d = 0; d < plan.rank; ++d) plan.numel *= plan.dims[d];
  for (int k = 0; k < N; ++k) {
    int64_t s = 1;
    for (int d = plan.rank - 1; d >= 0; --d) {
      if (plan.strides[k][d] == 0) continue;
      plan.strides[k][d] = s;
      s *= plan.dims[d];
    }
  }
  if (plan.numel == 0) {  // nothing to walk; keep the plan trivially valid
    plan.rank = 1;
    plan.dims[0] = 0;
  }
  return Status::ok();
}

template Status planBroadcast<1>(const Shape* const (&)[1], Shape&, BroadcastPlan<1>&);
template Status planBroadcast<2>(const Shape* const (&)[2], Shape&, BroadcastPlan<2>&);
template Status planBroadcast<3>(const Shape* const (&)[3], Shape&, BroadcastPlan<3>&);

namespace {

// Offset of the idx-th element of a row-major walk over `n` dims.
inline int64_t offsetOf(int64_t idx, const int64_t* dims, const int64_t* strides, int n) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    off += (idx % dims[d]) * strides[d];
    idx /= dims[d];
  }
  return off;
}

}  // namespace

Status sumToShape(const float* src, const Shape& srcShape, float* dst, const Shape& dstShape, int threads,
                  double scale) {
  BroadcastPlan<2> p;
  thread_local Shape out;  // keeps its capacity: no allocation in steady state
  const Shape* shapes[2] = {&srcShape, &dstShape};
  TOPIARY_RETURN_IF_ERROR(planBroadcast<2>(shapes, out, p));
  if (out != srcShape)
    return Status::internal("sumToShape: " + shapeToString(dstShape) + " does not broadcast to " +
                            shapeToString(srcShape));
  const int64_t dstNumel = numelOf(dstShape);
  if (p.numel == 0) {
    std::fill(dst, dst + dstNumel, 0.f);
    return Status::ok();
  }
  if (dstNumel == p.numel) {
    parallelFor(
        p.numel, threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = static_cast<float>(scale * src[i]);
        },
        1 << 15);
    return Status::ok();
  }
  // Split merged dims into kept (dst reads them) and reduced ones, each in
  // row-major order with their source strides.
  int64_t keptDims[kMaxBroadcastRank], keptStr[kMaxBroadcastRank];
  int64_t redDims[kMaxBroadcastRank], redStr[kMaxBroadcastRank];
  int nk = 0, nr = 0;
  for (int d = 0; d < p.rank; ++d) {
    if (p.strides[1][d]) {
      keptDims[nk] = p.dims[d];
      keptStr[nk++] = p.strides[0][d];
    } else {
      redDims[nr] = p.dims[d];
      redStr[nr++] = p.strides[0][d];
    }
  }
  if (nk == 0) {
    // Sum of everything: fixed blocks summed in parallel, then in order, so
    // the result does not depend on the thread count.
    constexpr int kBlocks = 64;
    double partial[kBlocks] = {};
    const int64_t n = p.numel;
    parallelFor(kBlocks, threads, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        double s = 0;
        for (int64_t i = n * blk / kBlocks, end = n * (blk + 1) / kBlocks; i < end; ++i) s += src[i];
        partial[blk] = s;
      }
    });
    double total = 0;
    for (double v : partial) total += v;
    dst[0] = static_cast<float>(total * scale);
    return Status::ok();
  }
  const bool innerReduced = p.strides[1][p.rank - 1] == 0;
  if (innerReduced) {
    // One unit per dst element; the innermost reduced run is contiguous.
    const int64_t L = redDims[nr - 1];
    int64_t R = 1;
    for (int d = 0; d < nr - 1; ++d) R *= redDims[d];
    parallelFor(
        dstNumel, threads,
        [&](int64_t b, int64_t e) {
          for (int64_t j = b; j < e; ++j) {
            const float* base = src + offsetOf(j, keptDims, keptStr, nk);
            double s = 0;
            for (int64_t r = 0; r < R; ++r) {
              const float* run = base + offsetOf(r, redDims, redStr, nr - 1);
              for (int64_t c = 0; c < L; ++c) s += run[c];
            }
            dst[j] = static_cast<float>(s * scale);
          }
        },
        std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, R * L)));
  } else {
    // The innermost dim is kept: accumulate blocks of dst columns over all
    // reduced positions, reading the source rows contiguously.
    constexpr int64_t kCols = 64;
    const int64_t W = keptDims[nk - 1];
    const int64_t rows = dstNumel / W;
    const int64_t nblk = (W + kCols - 1) / kCols;
    int64_t R = 1;
    for (int d = 0; d < nr; ++d) R *= redDims[d];
    parallelFor(
        rows * nblk, threads,
        [&](int64_t b, int64_t e) {
          double acc[kCols];
          for (int64_t u = b; u < e; ++u) {
            const int64_t row = u / nblk, c0 = (u % nblk) * kCols, c1 = std::min(W, c0 + kCols);
            const float* base = src + offsetOf(row, keptDims, keptStr, nk - 1) + c0;
            std::fill(acc, acc + (c1 - c0), 0.0);
            for (int64_t r = 0; r < R; ++r) {
              const float* run = base + offsetOf(r, redDims, redStr, nr);
              for (int64_t c = 0; c < c1 - c0; ++c) acc[c] += run[c];
            }
            float* o = dst + row * W + c0;
            for (int64_t c = 0; c < c1 - c0; ++c) o[c] = static_cast<float>(acc[c] * scale);
          }
        },
        std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, R * kCols)));
  }
  return Status::ok();
}

}  // namespace topiary::ops
