// LogSoftmax: y = x - max - log(sum(exp(x - max))) along an axis (the kernel
// is shared with Softmax, see softmax_common.h).
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/softmax_common.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createLogSoftmax(const Node& node, int opset) { return makeSoftmax<true>(node, opset); }

}  // namespace topiary::ops
