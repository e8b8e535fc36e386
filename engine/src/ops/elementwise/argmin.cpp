// ArgMin: the int64 index of the smallest element along `axis` (default 0);
// the first of equal minima, or the last with select_last_index (opset 12).
// NaN counts as the smallest. Shared with ArgMax in arg_reduce.h.
#include "ops/elementwise/arg_reduce.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createArgMin(const Node& node, int) { return makeArgReduce<false>(node); }

}  // namespace topiary::ops
