// Softmax: y = exp(x - max) / sum(exp(x - max)) along an axis (the kernel
// is shared with LogSoftmax, see softmax_common.h).
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/softmax_common.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createSoftmax(const Node& node, int opset) { return makeSoftmax<false>(node, opset); }

}  // namespace topiary::ops
