// Dynamic (run-time, input-dependent) pruning: for one input, an activation
// channel that is zero (or whose largest magnitude is at most a threshold)
// contributes nothing (or almost nothing) to the Conv that reads it, so that
// Conv can skip the channel for this input. This measures, per input, how
// much compute such channel skipping saves: FLOPs of the consuming Convs
// over the skipped input channels. Static pruning removes channels for every
// input; dynamic pruning exploits the ones a particular input leaves silent.
// The executor really skips them with ExecutorOptions::dynamicSkipThreshold
// (Executor::dynamicSkippedFlops() gives the same per-input savings).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topiary/graph.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

struct DynamicOptions {
  float threshold = 0.f;  // a channel is skipped when max |a| <= threshold over its positions
  int threads = 0;
};

struct DynamicLayerStats {
  std::string node;         // the consuming Conv
  std::string tensor;       // the activation it reads
  int64_t channels = 0;
  double meanSkippedChannels = 0;  // averaged over inputs
  double flopsPerInput = 0;        // dense FLOPs of the Conv for one input
  double meanSavedFlops = 0;       // multiply-adds over skipped channels (bias kept), averaged over inputs
};

struct DynamicInputStats {
  double flops = 0;       // the whole model, dense, one input
  double savedFlops = 0;  // by skipping silent channels of this input
};

struct DynamicReport {
  float threshold = 0;
  std::vector<DynamicLayerStats> layers;
  std::vector<DynamicInputStats> inputs;
  double meanSavedFraction = 0;  // mean over inputs of savedFlops / flops
};

// Runs the graph on `images` (a batch [N, ...] for the graph's single input)
// and measures, per input, the channels each Conv could skip.
Result<DynamicReport> analyzeDynamicSkipping(const Graph& graph, const Tensor& images, const DynamicOptions& options = {});
nlohmann::json dynamicToJson(const DynamicReport& r);

}  // namespace topiary
