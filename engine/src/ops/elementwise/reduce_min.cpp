// ReduceMin: the minimum over the reduced axes (see reduce.h); NaN
// propagates. An empty reduction is +inf (the highest value for integers).
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

template <class T>
using MinReduction = ExtremumReduction<T, false>;

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceMin(const Node& node, int opset) {
  return makeReduce<MinReduction>("ReduceMin", node, opset, 18);
}

}  // namespace topiary::ops
