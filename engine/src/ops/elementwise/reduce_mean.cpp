// ReduceMean: the mean over the reduced axes (see reduce.h for axes and
// keepdims). Sums accumulate in double; integer means truncate. An empty
// reduction is NaN (0/0) for floats. Gradient: dy / count, broadcast back.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

template <class T>
struct MeanReduction {
  using Acc = double;
  static constexpr double kFlopsPerElement = 1.0;
  static constexpr bool kLinear = true;
  Acc init() const { return 0.0; }
  Acc step(Acc a, T x) const { return a + static_cast<double>(x); }
  Acc combine(Acc a, Acc b) const { return a + b; }
  T finish(Acc a, int64_t n) const {
    return fromDouble<T>(n > 0 ? a * (1.0 / static_cast<double>(n)) : std::numeric_limits<double>::quiet_NaN());
  }
  static double gradScale(int64_t n) { return n > 0 ? 1.0 / static_cast<double>(n) : 0.0; }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceMean(const Node& node, int opset) {
  return makeReduce<MeanReduction>("ReduceMean", node, opset, 18);
}

}  // namespace topiary::ops
