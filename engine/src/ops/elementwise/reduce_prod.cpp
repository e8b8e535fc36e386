// ReduceProd: the product over the reduced axes (see reduce.h). Floats
// accumulate in double, integers wrap. An empty reduction is 1.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

template <class T>
struct ProdReduction {
  using Acc = SumAcc<T>;
  static constexpr double kFlopsPerElement = 1.0;
  static constexpr bool kLinear = false;
  Acc init() const { return Acc(1); }
  Acc step(Acc a, T x) const { return wrapMul<Acc>(a, static_cast<Acc>(x)); }
  Acc combine(Acc a, Acc b) const { return wrapMul<Acc>(a, b); }
  T finish(Acc a, int64_t) const { return static_cast<T>(a); }
  static double gradScale(int64_t) { return 0.0; }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceProd(const Node& node, int opset) {
  return makeReduce<ProdReduction>("ReduceProd", node, opset, 18);
}

}  // namespace topiary::ops
