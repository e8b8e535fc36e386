// Recipes: a pruning run described as JSON (design.md), so the GUI can export
// what the user did and the CLI can redo it.
//
// { "default":  {"granularity": "filter", "sparsity": 0.5, "criterion": "l1"},
//   "layers":   {"conv2": {"granularity": "nm", "n": 2, "m": 4}, "fc3": {"sparsity": 0}},
//   "ranking":  "layer",                      // or "global"
//   "method":   "magnitude",                  // magnitude | admm | dns
//   "schedule": {"kind": "agp", "steps": 5, "initial_sparsity": 0},
//   "finetune": {"epochs": 2, "lr": 0.01, "data": "fashion-mnist:train", "batch": 64,
//                "limit": 0, "max_batches": 0, "optimizer": "sgd", "lr_schedule": "none",
//                "augment_shift": 0, "augment_flip": false},
//   "admm":     {"rho": 0.001, "iterations": 4, "epochs": 1, "rho_growth": 1},
//   "dns":      {"hysteresis": 0.1, "update_every": 10},
//   "quantize": {"bits": 8, "per_channel": true, "aware": false} }
//
// Layer keys of "default" and each "layers" entry: granularity, sparsity,
// criterion, n, m, locked. A "layers" entry with granularity "layer" and
// sparsity > 0 removes that node (any node dependency.h's checkLayerRemoval
// accepts: an activation, a BatchNorm, a residual Add with its branch).
// Layers are named by node name or, for
// convenience, by their weight initializer's name. Every key is checked:
// unknown keys, wrong types and impossible values are BadInput errors that
// name the key path and the value ("recipe key 'default.sparsity': 1.5 is
// outside [0, 1)").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topiary/graph.h"
#include "topiary/prune.h"
#include "topiary/status.h"

namespace topiary {

enum class PruneMethod { Magnitude, Admm, Dns };
enum class ScheduleKind { OneShot, Iterative, Agp };
const char* pruneMethodName(PruneMethod m);    // magnitude | admm | dns
const char* scheduleKindName(ScheduleKind k);  // one-shot | iterative | agp

// A "layers" entry: only the keys it sets override "default".
struct LayerOverride {
  std::optional<Granularity> granularity;
  std::optional<double> sparsity;
  std::optional<Criterion> criterion;
  std::optional<int> n, m;
  std::optional<bool> nmKernel;  // "nm_pattern": "kernel" (true) or "tap"
  std::optional<bool> locked;
};

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::OneShot;
  int steps = 1;                 // pruning steps (iterative, agp)
  double initialSparsity = 0.0;  // agp s_i
};

struct FinetuneConfig {
  int epochs = 0;                // after each pruning step (0: no fine-tuning)
  float lr = 0.01f;
  std::string data;              // data spec, e.g. fashion-mnist:train
  int batch = 64;
  int64_t limit = 0;             // use only the first `limit` samples (0: all)
  int64_t maxBatches = 0;        // batches per epoch cap (0: whole epoch)
  std::string optimizer = "sgd"; // sgd | adam
  // none: constant lr; cosine: lr decays to zero over each fine-tuning run, so
  // every pruning step ends at a settled point instead of mid-stride.
  std::string lrSchedule = "none";
  // The training augmentation (TrainOptions::augmentShift/augmentFlip): a model
  // trained with it overfits when fine-tuned without it.
  int augmentShift = 0;
  bool augmentFlip = false;
};

struct AdmmConfig {
  float rho = 1e-3f;             // penalty weight of rho/2 ||W - Z + U||^2
  int iterations = 4;            // Z/U updates
  int epochs = 1;                // W-step epochs per iteration
  // After each iteration rho *= rho_growth (ADMM-NN's increasing penalty: a
  // small rho lets W find a good sparse shape first, a large one then forces
  // W onto Z so hard pruning costs little). The scaled dual U is divided by
  // the same factor so rho*U, the unscaled dual, is unchanged.
  float rhoGrowth = 1.f;
};

struct DnsConfig {
  float hysteresis = 0.1f;       // b = a * (1 + hysteresis): weights in [a, b) keep their state
  int updateEvery = 10;          // optimizer steps between mask updates
};

struct QuantizeConfig {
  int bits = 0;                  // 0: no quantization; 1..8
  bool perChannel = true;
  bool aware = false;            // quantization-aware fine-tuning (straight-through) for finetune.epochs
};

struct Recipe {
  LayerPruneConfig defaults;
  std::map<std::string, LayerOverride> layers;
  bool globalRanking = false;
  PruneMethod method = PruneMethod::Magnitude;
  ScheduleConfig schedule;
  FinetuneConfig finetune;
  AdmmConfig admm;
  DnsConfig dns;
  QuantizeConfig quantize;
};

Result<Recipe> recipeFromJson(const nlohmann::json& j);
Result<Recipe> parseRecipe(const std::string& jsonText);
Result<Recipe> loadRecipe(const std::string& path);
// Every field, so a saved recipe documents the defaults it ran with.
nlohmann::json recipeToJson(const Recipe& r);
Status saveRecipe(const Recipe& r, const std::string& path);

// A recipe applied to one graph.
struct ResolvedRecipe {
  PruneConfig config;                 // masks for element/nm/kernel/filter/channel/neuron layers
  std::vector<std::string> removeLayers;  // granularity "layer": nodes to remove
  std::vector<std::string> notes;     // e.g. "fc3: default granularity 'kernel' does not apply to Gemm; left dense"
};

// Resolves "default" + "layers" for every prunable layer of the graph. The
// default adapts to each operator (filter on a Gemm means neuron; a group
// that cannot be pruned, like the logits layer's outputs, is left dense with
// a note); an explicit "layers" entry that cannot apply is BadInput.
Result<ResolvedRecipe> resolveRecipe(const Graph& graph, const Recipe& recipe,
                                     const std::vector<DependencyGroup>* groups = nullptr);

}  // namespace topiary
