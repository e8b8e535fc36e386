// ReduceL1: the sum of |x| over the reduced axes (see reduce.h). Floats
// accumulate in double, integers wrap.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

template <class T>
struct L1Reduction {
  using Acc = SumAcc<T>;
  static constexpr double kFlopsPerElement = 2.0;
  static constexpr bool kLinear = false;
  Acc init() const { return Acc(0); }
  Acc step(Acc a, T x) const {
    const Acc v = static_cast<Acc>(x);
    return wrapAdd<Acc>(a, v < Acc(0) ? wrapSub<Acc>(Acc(0), v) : v);
  }
  Acc combine(Acc a, Acc b) const { return wrapAdd<Acc>(a, b); }
  T finish(Acc a, int64_t) const { return static_cast<T>(a); }
  static double gradScale(int64_t) { return 0.0; }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceL1(const Node& node, int opset) {
  return makeReduce<L1Reduction>("ReduceL1", node, opset, 18);
}

}  // namespace topiary::ops
