// Before/after reports of a pruning run: the design's metric keys (params,
// nonzero_params, flops, size_bytes, layers, latency_ms, accuracy) plus the
// FLOPs that remain when zero weights are skipped and the storage of every
// sparse format at several bit-widths. Used by `topiary-cli prune` and the GUI.
#pragma once

#include <atomic>
#include <vector>

#include <nlohmann/json.hpp>

#include "topiary/dataset.h"
#include "topiary/graph.h"
#include "topiary/metrics.h"
#include "topiary/recipe.h"
#include "topiary/status.h"
#include "topiary/storage.h"

namespace topiary {

struct LatencyStats {
  double median = 0, min = 0, max = 0;  // milliseconds per run
  int runs = 0;
  int batch = 1;
};

// Runs the graph `runs` times on zeros (after three warm-up runs) and reports the
// median, min and max wall time.
Result<LatencyStats> measureLatency(const Graph& graph, int batch = 1, int runs = 20, int threads = 0);

// FLOPs at batch 1 when every multiply-add with a zero weight is skipped:
// dense FLOPs minus 2 x (zero weights) x (times each weight is used, i.e.
// output positions). Per node in graph order, and the total.
struct EffectiveFlops {
  double dense = 0, effective = 0;
  std::vector<double> perNodeDense, perNodeEffective;
};
Result<EffectiveFlops> measureEffectiveFlops(const Graph& graph);

struct ReportOptions {
  std::vector<int> bits = {32, 8, 4};
  bool perChannel = true;
  int n = 2, m = 4;
  int latencyRuns = 20;   // 0: no latency
  int batch = 1;
  int threads = 0;
  const Dataset* data = nullptr;  // accuracy when given
  const std::atomic<bool>* cancel = nullptr;
};

struct ModelReport {
  ModelMetrics metrics;
  EffectiveFlops flops;
  std::vector<ModelStorage> storage;  // one per ReportOptions::bits
  LatencyStats latency;
  bool hasLatency = false;
  bool hasAccuracy = false;
  double accuracy = 0;
  int64_t samples = 0;
};

Result<ModelReport> measureReport(const Graph& graph, const ReportOptions& options = {});
// Prices storage as the recipe stores it: its quantize.bits besides 32, 8 and
// 4, with its per_channel or per-tensor scales, and its N:M pattern (the default's when that is N:M, else that of a
// layer entry that is), so that `topiary-cli prune` and `report` give one number.
void priceAsRecipe(const Recipe& recipe, ReportOptions& options);
// metricsToJson's keys + effective_flops, latency_ms{median,min,max},
// accuracy and samples (when measured), storage{"32": storageToJson, ...}.
nlohmann::json reportToJson(const ModelReport& r);

}  // namespace topiary
