// A Conv inside a channels-last region (optimize/channels_last.h): its input
// (topiary.x_nhwc = 1) and/or output (topiary.y_nhwc = 1) is stored as
// [N, H, W, C] while the tensor's shape stays [N, C, H, W]. Only the kinds
// of layer such regions hold, with frozen weights: 2-D depthwise
// (kernels/depthwise_conv.h, C a multiple of 16), 2-D with a single input
// channel (the same kernel, the input spread over the lanes; Cout a multiple
// of 16) and 1x1 stride-1 unpadded group-1 convolutions
// (kernels/pointwise_nhwc.h, Cout a multiple of 16).
// Anything else is an error naming the node: the optimiser never marks it.
#pragma once

#include <memory>

#include "topiary/graph.h"
#include "topiary/kernel.h"
#include "topiary/status.h"

namespace topiary::ops {

Result<std::unique_ptr<Kernel>> createChannelsLastConv(const Node& node);

}  // namespace topiary::ops
