// runRecipe: the orchestration of a pruning run (see prune_run.h).
#include <cmath>
#include <set>

#include "prune/mask_util.h"
#include "prune/methods.h"
#include "topiary/quantize.h"

namespace topiary {

namespace prune_detail {

TrainOptions finetuneOptions(const Recipe& r, const PruneRunOptions& o, int epochs) {
  TrainOptions t;
  t.epochs = epochs;
  t.batchSize = r.finetune.batch;
  t.lr = r.finetune.lr;
  t.optimizer = r.finetune.optimizer;
  t.schedule = r.finetune.lrSchedule;
  t.augmentShift = r.finetune.augmentShift;
  t.augmentFlip = r.finetune.augmentFlip;
  t.maxBatchesPerEpoch = r.finetune.maxBatches;
  t.threads = o.threads;
  t.seed = o.seed;
  return t;
}

std::function<bool(const TrainProgress&)> trainProgress(const PruneRunOptions& o, const std::string& stage, int step,
                                                        int steps) {
  if (!o.progress) return {};
  auto cb = o.progress;
  return [cb, stage, step, steps](const TrainProgress& tp) {
    PruneProgress p;
    p.stage = stage;
    p.step = step;
    p.steps = steps;
    p.train = tp;
    p.training = true;
    return cb(p);
  };
}

}  // namespace prune_detail

using namespace prune_detail;

namespace {

PruneConfig scaled(const PruneConfig& c, double fraction) {
  PruneConfig out = c;
  for (auto& kv : out.layers) kv.second.sparsity *= fraction;
  out.globalSparsity *= fraction;
  return out;
}

std::string percent(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", 100.0 * v);
  return b;
}

}  // namespace

// removeMaskedChannels is in surgery.cpp, with the group surgery it batches.

Result<PruneRunResult> runRecipe(const Graph& model, const Recipe& recipe, const PruneRunOptions& o) {
  PruneRunResult res;
  Graph g = model;
  // A quantized model: prune the float values its integer weights stand for.
  auto dequantized = dequantizeWeights(g);
  if (!dequantized) return dequantized.status();
  if (*dequantized > 0)
    res.log.push_back("read " + std::to_string(*dequantized) +
                      " weights stored as integers (DequantizeLinear, or Cast and Mul) as floats; the result keeps "
                      "them as floats unless the recipe quantizes");
  auto report = [&](const std::string& stage, int step, int steps) {
    if (!o.progress) return true;
    PruneProgress p;
    p.stage = stage;
    p.step = step;
    p.steps = steps;
    return o.progress(p);
  };
  if (recipe.finetune.epochs > 0 && !o.trainData && recipe.method == PruneMethod::Magnitude)
    return Status::badInput("recipe key 'finetune.epochs': fine-tuning needs training data (finetune.data)");

  auto first = resolveRecipe(g, recipe);
  if (!first) return first.status();
  for (const auto& n : first->notes) res.log.push_back(n);
  const bool layersRemoved = !first->removeLayers.empty();
  // Layer granularity: remove those layers first, then resolve the rest on the smaller graph.
  if (!first->removeLayers.empty()) {
    for (const auto& node : first->removeLayers) {
      TOPIARY_RETURN_IF_ERROR(removeLayer(g, node).withContext("removing layer '" + node + "'"));
      res.log.push_back("removed layer " + node);
    }
  }
  Recipe rest = recipe;
  for (auto it = rest.layers.begin(); it != rest.layers.end();) {
    bool gone = false;
    for (const auto& n : first->removeLayers) gone |= n == it->first;
    it = gone ? rest.layers.erase(it) : std::next(it);
  }
  ResolvedRecipe rr;
  if (first->removeLayers.empty()) rr = std::move(first.value());
  else {
    auto again = resolveRecipe(g, rest);
    if (!again) return again.status();
    rr = std::move(again.value());
  }
  const PruneConfig& config = rr.config;

  MaskSet masks;
  if (recipe.method == PruneMethod::Admm) {
    if (!report("admm", 0, recipe.admm.iterations)) return Status::cancelled();
    TOPIARY_RETURN_IF_ERROR(runAdmm(g, config, recipe, o, masks, res.log));
    res.stepSparsities.push_back(prunableSparsity(g));
  } else if (recipe.method == PruneMethod::Dns) {
    if (!report("dns", 0, 1)) return Status::cancelled();
    TOPIARY_RETURN_IF_ERROR(runDns(g, config, recipe, o, masks, res.dns));
    res.stepSparsities.push_back(prunableSparsity(g));
    for (const auto& d : res.dns)
      res.log.push_back("dns " + d.node + ": " + std::to_string(d.pruned) + "/" + std::to_string(d.weights) +
                        " pruned, " + std::to_string(d.spliceBacks) + " spliced back");
  } else {
    int steps = recipe.schedule.kind == ScheduleKind::OneShot ? 1 : recipe.schedule.steps;
    auto targets = scheduleTargets(recipe.schedule, recipe.defaults.sparsity, steps);
    steps = static_cast<int>(targets.size());
    for (int t = 1; t <= steps; ++t) {
      std::string stage = "prune step " + std::to_string(t) + "/" + std::to_string(steps);
      if (!report(stage, t, steps) || (o.cancel && o.cancel->load())) return Status::cancelled();
      MaskOptions mo;
      mo.data = o.trainData;
      mo.seed = o.seed;
      mo.threads = o.threads;
      mo.previous = masks.empty() ? nullptr : &masks;
      mo.cancel = o.cancel;
      auto m = computeMasks(g, scaled(config, targets[static_cast<size_t>(t - 1)]), mo);
      if (!m) return m.status();
      // Keep earlier zeros (a mask only ever grows its pruned set).
      for (auto& kv : m.value()) {
        auto prev = masks.find(kv.first);
        if (prev != masks.end())
          for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.f()[i] *= prev->second.f()[i];
      }
      for (auto& kv : masks)
        if (!m->count(kv.first)) (*m)[kv.first] = kv.second;
      masks = std::move(m.value());
      TOPIARY_RETURN_IF_ERROR(applyMasks(g, masks));
      bool lastStep = t == steps;
      if (recipe.finetune.epochs > 0 && !(lastStep && recipe.quantize.bits > 0 && recipe.quantize.aware)) {
        TrainOptions to = finetuneOptions(recipe, o, recipe.finetune.epochs);
        to.seed = o.seed + static_cast<uint64_t>(t);
        TOPIARY_RETURN_IF_ERROR(train(g, *o.trainData, to, &masks, {}, trainProgress(o, stage + " fine-tune", t, steps), o.cancel));
      }
      res.stepSparsities.push_back(prunableSparsity(g));
      res.log.push_back(stage + ": weight sparsity " + percent(res.stepSparsities.back()));
    }
  }

  if (recipe.quantize.bits > 0) {
    QuantSpec spec{recipe.quantize.bits, recipe.quantize.perChannel};
    if (recipe.quantize.aware && recipe.finetune.epochs > 0 && o.trainData) {
      std::shared_ptr<QatState> qs;
      TrainHooks hooks = makeQatHooks(spec, qs);
      TrainOptions to = finetuneOptions(recipe, o, recipe.finetune.epochs);
      TOPIARY_RETURN_IF_ERROR(train(g, *o.trainData, to, masks.empty() ? nullptr : &masks, hooks,
                                    trainProgress(o, "quantization-aware fine-tune", 1, 1), o.cancel));
      res.log.push_back("quantization-aware fine-tuning: " + std::to_string(recipe.finetune.epochs) + " epochs");
    }
    TOPIARY_RETURN_IF_ERROR(fakeQuantizeGraph(g, spec));
    res.log.push_back("weights quantized to " + std::to_string(recipe.quantize.bits) + " bits" +
                      (recipe.quantize.perChannel ? " per channel" : " per tensor"));
  }

  res.masks = std::move(masks);
  res.masked = g;
  auto removed = removeMaskedChannels(g, config);
  if (!removed) return removed.status();
  res.structural = removed.value() > 0 || layersRemoved;
  if (removed.value() > 0) res.log.push_back("physically removed " + std::to_string(removed.value()) + " channels");
  res.removed = std::move(g);
  return res;
}

}  // namespace topiary
