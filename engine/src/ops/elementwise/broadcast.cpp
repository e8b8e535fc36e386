#include "ops/elementwise/broadcast.h"

#include "ops/elementwise/reduce.h"

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

Status sumToShape(const float* src, const Shape& srcShape, float* dst, const Shape& dstShape, int threads,
                  double scale) {
  ReducePlan p;
  TOPIARY_RETURN_IF_ERROR(planReduction(srcShape, dstShape, p));
  SumReduction<float> sum;
  sum.scale = scale;
  runReduction(p, src, dst, threads, sum);
  return Status::ok();
}

}  // namespace topiary::ops
