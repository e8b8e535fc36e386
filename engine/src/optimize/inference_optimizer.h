// Inference-only graph rewrites, applied by Executor::create when
// ExecutorOptions::optimizeForInference is set. The result is a copy; the
// source graph is untouched (the trainer keeps BatchNorm separate).
//   - Conv followed by BatchNormalization (running statistics): the BN scale
//     is folded into the conv's weights and its shift into the bias.
//   - Conv or Gemm followed by Relu, LeakyRelu, Clip, HardSigmoid or
//     HardSwish: the activation is applied inside the Conv/Gemm's output pass
//     (internal attribute topiary.act, see kernels/activation.h).
//   - Conv and Gemm get topiary.frozen = 1: their weights will not change, so
//     they may pack them once and pick a sparse kernel (see kernels/).
//   - with dynamicSkipThreshold >= 0, Convs that read an activation (not a
//     graph input) get topiary.dynamic_skip = threshold: they skip, per
//     image, the input channels whose max |x| is <= the threshold
//     (ops/nn/conv_dynamic.h). Group-1 and 2-D depthwise Convs only.
//   - channels-last regions around depthwise Convs (optimize/channels_last.h).
// A rewrite happens only when the intermediate tensor has no other reader
// and is not a graph output.
#pragma once

#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/status.h"

namespace topiary::optimize {

// `log` gets one line per rewrite ("conv1 + bn1 folded", ...).
Result<Graph> optimizeForInference(const Graph& graph, std::vector<std::string>& log,
                                   float dynamicSkipThreshold = -1.f);

}  // namespace topiary::optimize
