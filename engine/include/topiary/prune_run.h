// Running a recipe: pruning methods (magnitude/criterion, ADMM, dynamic
// network surgery), schedules (one-shot, iterative, AGP) with fine-tuning
// between steps, optional quantization, and the physically pruned model.
//
//  one-shot   prune to the target, then fine-tune
//  iterative  `steps` rounds of prune (linear ramp to the target) + fine-tune
//  agp        Zhu & Gupta 2017: s_t = s_f + (s_i - s_f)(1 - t/n)^3, t = 1..n,
//             fine-tuning between steps; pruned weights stay pruned
//  admm       Zhang et al. 2018: `admm.iterations` rounds of W-step (SGD on
//             loss + rho/2 ||W - Z + U||^2, through TrainHooks::afterBackward),
//             Z-step (Z = projection of W + U onto the sparsity constraint),
//             U += W - Z; then hard pruning and masked retraining for
//             finetune.epochs (ADMM-NN-S)
//  dns        Guo et al. 2016: masks are recomputed during fine-tuning with
//             hysteresis thresholds a < b (|w| < a: pruned, |w| >= b: kept,
//             in between: unchanged), so pruned weights can be spliced back;
//             all weights keep being updated through the mask (straight-
//             through). Element granularity.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "topiary/dataset.h"
#include "topiary/graph.h"
#include "topiary/recipe.h"
#include "topiary/status.h"
#include "topiary/train.h"

namespace topiary {

// AGP sparsity after step t of n (t = 0..n).
double agpSparsity(double initial, double final, int t, int n);
// Fraction of each layer's final sparsity to reach at each step 1..steps
// (one-shot: {1}; iterative: t/steps; agp: relative to final, from
// agpSparsity with initial = schedule.initialSparsity as a fraction of final).
std::vector<double> scheduleTargets(const ScheduleConfig& schedule, double finalSparsity, int steps);

struct PruneProgress {
  std::string stage;       // "prune step 2/5", "fine-tune", "admm 3/4", "dns"
  int step = 0, steps = 0;
  TrainProgress train;     // valid while fine-tuning
  bool training = false;
};

struct PruneRunOptions {
  const Dataset* trainData = nullptr;  // fine-tuning / ADMM / DNS / taylor data (required by those)
  int threads = 0;
  uint64_t seed = 1;
  std::function<bool(const PruneProgress&)> progress;  // return false to cancel
  const std::atomic<bool>* cancel = nullptr;
};

struct DnsLayerStats {
  std::string node;
  int64_t weights = 0;
  int64_t pruned = 0;        // at the end
  int64_t spliceBacks = 0;   // mask 0 -> 1 events
  int64_t prunings = 0;      // mask 1 -> 0 events after the first mask
};

struct PruneRunResult {
  Graph masked;              // original shapes, pruned weights zero (fake-quantized when asked)
  Graph removed;             // physically pruned (equals `masked` when nothing structural was pruned)
  bool structural = false;   // `removed` is smaller than `masked`
  MaskSet masks;
  std::vector<double> stepSparsities;  // overall weight sparsity after each pruning step
  std::vector<DnsLayerStats> dns;
  std::vector<std::string> log;        // notes and per-step summaries, for the user
};

// Runs the whole recipe on a copy of `model`. Fine-tuning needs
// options.trainData when recipe.finetune.epochs > 0 (BadInput otherwise);
// ADMM and DNS always need it.
Result<PruneRunResult> runRecipe(const Graph& model, const Recipe& recipe, const PruneRunOptions& options = {});

// Removes, in place, every channel whose slices are all zero in the groups
// that the configuration prunes at filter/channel/neuron granularity. The
// graph computes the same function afterwards. Returns channels removed.
Result<int64_t> removeMaskedChannels(Graph& graph, const PruneConfig& config);

// Overall sparsity of the prunable weights (zeros / weights).
double prunableSparsity(const Graph& graph);

}  // namespace topiary
