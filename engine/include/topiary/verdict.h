// "Is unstructured pruning worth it here?": compares, on the user's model and
// data, unstructured (element), N:M and structured (filter/neuron) pruning at
// a matched accuracy. For element and filter granularity the largest uniform
// sparsity whose accuracy stays within `tolerance` of the dense model is found
// by bisection (first and last prunable layers kept dense); N:M has its fixed
// sparsity. Then it prices each pruned model
// under every storage format at several bit-widths (storage.h, index overhead
// kept apart from the values), measures latency (with dense kernels, and with
// the engine's inference optimiser, which runs CSR/2:4 kernels where they beat
// the dense one) and writes a verdict sentence derived
// from those numbers, never from a template chosen in advance.
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "topiary/dataset.h"
#include "topiary/graph.h"
#include "topiary/prune.h"
#include "topiary/status.h"
#include "topiary/storage.h"

namespace topiary {

// The largest sparsity of a sensitivity curve whose accuracy is at least
// `reference - tolerance` (the curve's points are taken as measured, no
// interpolation); 0 when even the smallest point loses more.
double sparsityAtTolerance(const std::vector<double>& sparsities, const std::vector<double>& accuracies,
                           double reference, double tolerance);

struct VerdictOptions {
  double tolerance = 0.01;  // accuracy drop allowed, absolute (0.01 = one point)
  Criterion criterion = Criterion::L1;
  std::vector<int> bits = {32, 8, 4};
  int n = 2, m = 4;     // the N:M candidate
  int searchSteps = 6;  // bisection steps per granularity
  double maxSparsity = 0.95;
  int latencyRuns = 20;  // 0: no latency
  int threads = 0;
  std::function<void(const std::string& stage, int done, int total)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct VerdictCandidate {
  std::string name;  // unstructured | nm | structured
  Granularity granularity = Granularity::Element;
  double sparsity = 0;        // the recipe's default sparsity
  double weightSparsity = 0;  // achieved zeros / prunable weights
  double accuracy = 0;
  nlohmann::json recipe;  // reproduces the candidate with `topiary-cli prune`
  Graph masked;           // original shapes, pruned weights zero
  Graph physical;         // channels removed (structured); equals masked otherwise
  bool structural = false;
  std::vector<ModelStorage> storage;  // one per VerdictOptions::bits
};

// One bar of the storage chart: a format at a bit-width, from one candidate.
struct VerdictBar {
  int bits = 32;
  StorageFormat format = StorageFormat::Dense;
  std::string candidate;   // which candidate's model it prices
  double valueBytes = 0;   // values (+ the other float parameters)
  double indexBytes = 0;   // index overhead, its own segment
  double scaleBytes = 0;   // quantization scales
  int denseFallbacks = 0;  // layers priced dense because the format does not apply
  double total() const { return valueBytes + indexBytes + scaleBytes; }
};

struct VerdictLatency {
  std::string label;  // "dense", "unstructured, dense kernels", ...
  bool measured = false;
  double medianMs = 0;
  std::string note;  // why it is missing; for optimised runs, the kernels chosen
};

struct Verdict {
  double denseAccuracy = 0;
  int64_t samples = 0;
  double tolerance = 0;
  std::vector<int> bits;
  std::vector<VerdictCandidate> candidates;
  std::vector<VerdictBar> bars;
  std::vector<VerdictLatency> latencies;
  std::vector<std::string> findings;  // one sentence per measured comparison
  std::string sentence;               // the verdict line
  bool worthForStorage = false;       // at some bit-width the best unstructured format beats the structured model
  bool worthForSpeed = false;         // unstructured runs faster than the structured model
  const VerdictCandidate* candidate(const std::string& name) const;
  const VerdictBar* bar(int bits, StorageFormat f) const;
};

// `data` is the evaluation set (a few hundred images are enough for a verdict).
Result<Verdict> computeVerdict(const Graph& graph, const Dataset& data, const VerdictOptions& options = {});
nlohmann::json verdictToJson(const Verdict& v);

}  // namespace topiary
