// Sensitivity analysis: prune one layer at a time at several sparsities
// (every other layer dense) and measure accuracy, to find the layers that
// tolerate pruning. Runs (layer, sparsity) jobs on worker threads (both
// cores of the reference machine), reports progress and can be cancelled.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topiary/dataset.h"
#include "topiary/graph.h"
#include "topiary/prune.h"
#include "topiary/status.h"

namespace topiary {

struct SensitivityOptions {
  Granularity granularity = Granularity::Element;
  Criterion criterion = Criterion::L1;
  int n = 2, m = 4;                     // nm: one point at 1 - n/m
  std::vector<double> sparsities = {0.1, 0.3, 0.5, 0.7, 0.9};
  std::vector<std::string> layers;      // node names; empty: every prunable layer
  int workers = 0;                      // 0: one per core
  int batchSize = 256;
  // Measure agreement with the dense model's top-1 instead of accuracy.
  // Chosen automatically when the data has no labels (labels < 0).
  bool agreement = false;
  std::function<void(int done, int total)> progress;  // called from worker threads
  const std::atomic<bool>* cancel = nullptr;
};

struct SensitivityCurve {
  std::string layer;
  std::string op;
  int64_t params = 0;
  std::vector<double> sparsities;
  std::vector<double> accuracies;  // same length; accuracy or agreement
  std::string skipped;             // why the layer was not analysed (granularity does not apply)
};

struct SensitivityResult {
  bool agreement = false;
  double denseAccuracy = 0;  // 1.0 in agreement mode
  int64_t samples = 0;
  std::string granularity, criterion;
  std::vector<SensitivityCurve> layers;
};

Result<SensitivityResult> runSensitivity(const Graph& graph, const Dataset& data, const SensitivityOptions& options = {});
nlohmann::json sensitivityToJson(const SensitivityResult& r);

}  // namespace topiary
