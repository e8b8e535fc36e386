// Channels-last regions for inference (the last rewrite of
// optimizeForInference). A depthwise Conv interleaves channels to
// vectorise (kernels/depthwise_conv.h); in NCHW it pays a 16x16 transpose
// on the way in and out of every block, ~60% of its time on mobilenet-tiny.
// Here a tensor between two layers that both can work channels-last is
// stored as [N, H, W, C], when one of the two is a depthwise or a
// squeeze-excite (elsewhere there is no transpose to save). Such layers:
//   - frozen 2-D depthwise Convs (C a multiple of 16);
//   - fused squeeze-excite Muls (C a multiple of 16);
//   - frozen 1x1 stride-1 unpadded group-1 Convs and frozen 2-D Convs with a
//     single input channel (a stem), Cout a multiple of 16, with more than
//     25% of their weights nonzero: sparser ones stay NCHW, where the Conv may
//     pick a sparse kernel (the channels-last kernels are dense; at 2:4 the
//     dense channels-last kernel is the faster one).
// The tensor's producer gets topiary.y_nhwc = 1 (squeeze-excite:
// topiary.nhwc = 1, input and output both), its reader topiary.x_nhwc = 1.
// The tensor's shape stays [N, C, H, W]; only those two nodes touch it (it
// has a single reader and is not a graph output), so value() of it is the
// only place the order shows. A 1x1 Conv is a GEMM either way round, so it
// is where a region starts or ends at no cost (kernels/pointwise_nhwc.h).
#pragma once

#include <string>
#include <vector>

#include "topiary/graph.h"

namespace topiary::optimize {

// Marks the tensors; returns how many. `log` gets one line per tensor.
int markChannelsLast(Graph& g, std::vector<std::string>& log);

}  // namespace topiary::optimize
