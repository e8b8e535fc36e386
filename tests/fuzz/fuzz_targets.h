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
// serialization with the same nodes and weights (a loader/saver bug).
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
  auto ex = topiary::Executor::create(g.value(), opts);
  if (!ex) return {Stage::CreateRefused, ex.status().message()};
  std::vector<topiary::Tensor> inputs;
  int64_t total = 0;
  for (const auto& info : g->inputs) {
    auto t = topiary::makeInputLike(info, 1);
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

// Recipe text -> parseRecipe -> recipeToJson -> parse again (must succeed:
// a saved recipe must load) -> resolve against a small LeNet-5.
inline Outcome runRecipeTarget(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = topiary::parseRecipe(text);
  if (!r) return {Stage::LoadRefused, r.status().message()};
  auto again = topiary::recipeFromJson(topiary::recipeToJson(r.value()));
  if (!again) return {Stage::CreateRefused, "a parsed recipe does not re-load: " + again.status().message()};
  static const topiary::Graph lenet = [] {
    auto g = topiary::buildArchitecture("lenet5");
    return g ? std::move(g.value()) : topiary::Graph();
  }();
  auto resolved = topiary::resolveRecipe(lenet, r.value());
  if (!resolved) return {Stage::RunRefused, resolved.status().message()};
  return {Stage::Ran, ""};
}

}  // namespace fuzz
