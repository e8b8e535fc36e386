// What each fuzz target does with one input, shared by the libFuzzer entry
// points (tests/fuzz/fuzz_*.cpp) and the ctest replay of saved crashers
// (tests/engine/test_fuzz_regressions.cpp), so a regression replays exactly
// the code path that crashed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "topiary/arch.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/recipe.h"

namespace fuzz {

// How far an input got: refused by the loader, by Executor::create, by the
// run, or all the way through. `message` holds the refusal.
// RoundTripBroken: a model that loaded did not load again from its own
// serialization with the same nodes and weights, or a recipe re-loaded from
// its own JSON with a different meaning (a loader/saver bug).
enum class Stage { LoadRefused, CreateRefused, RunRefused, TooBigToRun, Ran, RoundTripBroken };

struct Outcome {
  Stage stage = Stage::LoadRefused;
  std::string message;
};

// Limits small enough that a fuzzer's claimed sizes cannot exhaust memory:
// the loader must refuse before allocating.
inline topiary::LoadLimits fuzzLimits() {
  topiary::LoadLimits l;
  l.maxFileBytes = 1 << 20;
  l.maxTensorBytes = 16 << 20;
  l.maxTotalBytes = 64 << 20;
  l.maxNodes = 2000;
  return l;
}

// Model bytes -> loadModelFromBytes -> serialize -> Executor::create -> one
// run on zeros when every input is small.
inline Outcome runLoaderTarget(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto g = topiary::loadModelFromBytes(bytes, "", fuzzLimits());
  if (!g) return {Stage::LoadRefused, g.status().message()};
  auto saved = topiary::serializeModel(g.value());
  if (saved) {
    auto again = topiary::loadModelFromBytes(saved.value(), "", fuzzLimits());
    if (!again || again->nodes.size() != g->nodes.size() || again->initializers.size() != g->initializers.size())
      return {Stage::RoundTripBroken, again ? "node or initializer count changed" : again.status().message()};
  }
  topiary::ExecutorOptions opts;
  opts.threads = 1;
  // Operators may compute large but legal shapes (Tile, Expand, Resize); cap
  // them like the loader's tensors so each input runs in milliseconds.
  opts.maxTensorBytes = 16 << 20;
  // A run keeps every tensor it makes: a chain of many such outputs must be
  // refused too, not fill the machine (a fuzzer's model did, 3.3 GB).
  opts.maxRunBytes = 256 << 20;
  auto ex = topiary::Executor::create(g.value(), opts);
  if (!ex) return {Stage::CreateRefused, ex.status().message()};
  std::vector<topiary::Tensor> inputs;
  int64_t total = 0;
  for (const auto& info : g->inputs) {
    auto t = topiary::makeInputLike(info, 1, opts.maxTensorBytes);  // refused before allocating
    if (!t) return {Stage::RunRefused, t.status().message()};
    total += t->numel();
    if (total > (int64_t(1) << 16)) return {Stage::TooBigToRun, "inputs over 64K elements"};
    inputs.push_back(std::move(t.value()));
  }
  std::vector<std::pair<std::string, const topiary::Tensor*>> feed;
  for (size_t i = 0; i < inputs.size(); ++i) feed.emplace_back(g->inputs[i].name, &inputs[i]);
  topiary::Status st = (*ex)->run(feed);
  if (!st) return {Stage::RunRefused, st.message()};
  return {Stage::Ran, ""};
}

// The first field in which two recipes differ that changes what the recipe
// does ("" when none). Settings of a method or quantizer the recipe does not
// use are not compared: a saved recipe leaves them out.
inline std::string recipeDifference(const topiary::Recipe& a, const topiary::Recipe& b) {
  auto sameLayer = [](const topiary::LayerPruneConfig& x, const topiary::LayerPruneConfig& y) {
    return x.granularity == y.granularity && x.sparsity == y.sparsity && x.criterion == y.criterion && x.n == y.n &&
           x.m == y.m && x.nmKernel == y.nmKernel && x.locked == y.locked;
  };
  if (!sameLayer(a.defaults, b.defaults)) return "default";
  if (a.layers.size() != b.layers.size()) return "layers (count)";
  for (const auto& [name, o] : a.layers) {
    auto it = b.layers.find(name);
    if (it == b.layers.end()) return "layers." + name + " (missing)";
    const topiary::LayerOverride& p = it->second;
    if (o.granularity != p.granularity || o.sparsity != p.sparsity || o.criterion != p.criterion || o.n != p.n ||
        o.m != p.m || o.nmKernel != p.nmKernel || o.locked != p.locked)
      return "layers." + name;
  }
  if (a.globalRanking != b.globalRanking) return "ranking";
  if (a.method != b.method) return "method";
  if (a.schedule.kind != b.schedule.kind || a.schedule.steps != b.schedule.steps ||
      a.schedule.initialSparsity != b.schedule.initialSparsity)
    return "schedule";
  const auto &f = a.finetune, &g = b.finetune;
  if (f.epochs != g.epochs || f.lr != g.lr || f.data != g.data || f.batch != g.batch || f.limit != g.limit ||
      f.maxBatches != g.maxBatches || f.optimizer != g.optimizer || f.lrSchedule != g.lrSchedule ||
      f.augmentShift != g.augmentShift || f.augmentFlip != g.augmentFlip)
    return "finetune";
  if (a.method == topiary::PruneMethod::Admm &&
      (a.admm.rho != b.admm.rho || a.admm.iterations != b.admm.iterations || a.admm.epochs != b.admm.epochs ||
       a.admm.rhoGrowth != b.admm.rhoGrowth))
    return "admm";
  if (a.method == topiary::PruneMethod::Dns &&
      (a.dns.hysteresis != b.dns.hysteresis || a.dns.updateEvery != b.dns.updateEvery))
    return "dns";
  if (a.quantize.bits != b.quantize.bits) return "quantize.bits";
  if (a.quantize.bits > 0 && (a.quantize.perChannel != b.quantize.perChannel || a.quantize.aware != b.quantize.aware))
    return "quantize";
  return "";
}

// Recipe text -> parseRecipe -> recipeToJson -> parse again (must succeed:
// a saved recipe must load, CreateRefused otherwise, and must mean the same,
// RoundTripBroken otherwise) -> resolve against a small LeNet-5.
inline Outcome runRecipeTarget(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = topiary::parseRecipe(text);
  if (!r) return {Stage::LoadRefused, r.status().message()};
  auto again = topiary::recipeFromJson(topiary::recipeToJson(r.value()));
  if (!again) return {Stage::CreateRefused, "a parsed recipe does not re-load: " + again.status().message()};
  if (std::string d = recipeDifference(r.value(), again.value()); !d.empty())
    return {Stage::RoundTripBroken, "a saved recipe re-loads with a different '" + d + "'"};
  static const topiary::Graph lenet = [] {
    auto g = topiary::buildArchitecture("lenet5");
    return g ? std::move(g.value()) : topiary::Graph();
  }();
  auto resolved = topiary::resolveRecipe(lenet, r.value());
  if (!resolved) return {Stage::RunRefused, resolved.status().message()};
  return {Stage::Ran, ""};
}

}  // namespace fuzz
