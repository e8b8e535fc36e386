// ReduceLogSum: log of the sum over the reduced axes (see reduce.h),
// accumulated in double; integer outputs truncate. An empty reduction is
// -inf.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

template <class T>
struct LogSumReduction {
  using Acc = double;
  static constexpr double kFlopsPerElement = 1.0;
  static constexpr bool kLinear = false;
  Acc init() const { return 0.0; }
  Acc step(Acc a, T x) const { return a + static_cast<double>(x); }
  Acc combine(Acc a, Acc b) const { return a + b; }
  T finish(Acc a, int64_t) const { return fromDouble<T>(std::log(a)); }
  static double gradScale(int64_t) { return 0.0; }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceLogSum(const Node& node, int opset) {
  return makeReduce<LogSumReduction>("ReduceLogSum", node, opset, 18);
}

}  // namespace topiary::ops
