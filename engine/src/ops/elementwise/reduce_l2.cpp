// ReduceL2: sqrt of the sum of x*x over the reduced axes (see reduce.h),
// accumulated in double; integer outputs truncate.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

template <class T>
struct L2Reduction {
  using Acc = double;
  static constexpr double kFlopsPerElement = 2.0;
  static constexpr bool kLinear = false;
  Acc init() const { return 0.0; }
  Acc step(Acc a, T x) const { return a + static_cast<double>(x) * static_cast<double>(x); }
  Acc combine(Acc a, Acc b) const { return a + b; }
  T finish(Acc a, int64_t) const { return fromDouble<T>(std::sqrt(a)); }
  static double gradScale(int64_t) { return 0.0; }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceL2(const Node& node, int opset) {
  return makeReduce<L2Reduction>("ReduceL2", node, opset, 18);
}

}  // namespace topiary::ops
