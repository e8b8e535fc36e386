// ArgMax: the int64 index of the largest element along `axis` (default 0);
// the first of equal maxima, or the last with select_last_index (opset 12).
// NaN counts as the largest. Shared with ArgMin in arg_reduce.h.
#include "ops/elementwise/arg_reduce.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createArgMax(const Node& node, int) { return makeArgReduce<true>(node); }

}  // namespace topiary::ops
