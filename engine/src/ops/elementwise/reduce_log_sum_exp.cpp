// ReduceLogSumExp: log(sum(exp(x))) over the reduced axes (see reduce.h),
// computed in one pass without overflow: the accumulator is the running
// maximum m and s = sum(exp(x - m)), rescaled when m grows. An empty
// reduction is -inf; NaN propagates.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

struct MaxAndScaledSum {
  double m = -std::numeric_limits<double>::infinity();
  double s = 0.0;
};

template <class T>
struct LogSumExpReduction {
  using Acc = MaxAndScaledSum;
  static constexpr double kFlopsPerElement = 6.0;  // an exp and a few operations
  static constexpr bool kLinear = false;
  Acc init() const { return Acc(); }
  Acc step(Acc a, T x) const { return merge(a, static_cast<double>(x), 1.0); }
  Acc combine(Acc a, Acc b) const { return b.s == 0.0 ? a : merge(a, b.m, b.s); }
  T finish(Acc a, int64_t) const { return fromDouble<T>(a.m + std::log(a.s)); }
  static double gradScale(int64_t) { return 0.0; }

 private:
  // Adds s * exp(m) to a. Equal maxima (infinities included) add directly,
  // so inf - inf never appears.
  static Acc merge(Acc a, double m, double s) {
    if (std::isnan(m)) {
      a.m = m;
    } else if (m > a.m) {
      a.s = a.s * std::exp(a.m - m) + s;
      a.m = m;
    } else if (m == a.m) {
      a.s += s;
    } else {
      a.s += s * std::exp(m - a.m);
    }
    return a;
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceLogSumExp(const Node& node, int opset) {
  return makeReduce<LogSumExpReduction>("ReduceLogSumExp", node, opset, 18);
}

}  // namespace topiary::ops
