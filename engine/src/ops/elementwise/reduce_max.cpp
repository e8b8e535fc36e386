// ReduceMax: the maximum over the reduced axes (see reduce.h); NaN
// propagates. An empty reduction is -inf (the lowest value for integers).
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {
namespace {

template <class T>
using MaxReduction = ExtremumReduction<T, true>;

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceMax(const Node& node, int opset) {
  return makeReduce<MaxReduction>("ReduceMax", node, opset, 18);
}

}  // namespace topiary::ops
