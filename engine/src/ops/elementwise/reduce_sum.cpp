// ReduceSum: the sum over the reduced axes (see reduce.h); axes are an
// input from opset 13. Floats accumulate in double, integers wrap.
// Gradient: dy broadcast back.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/reduce.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createReduceSum(const Node& node, int opset) {
  return makeReduce<SumReduction>("ReduceSum", node, opset, 13);
}

}  // namespace topiary::ops
