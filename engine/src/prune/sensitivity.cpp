// Per-layer sensitivity sweeps on worker threads.
#include "topiary/sensitivity.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "topiary/executor.h"
#include "topiary/quantize.h"
#include "topiary/recipe.h"
#include "topiary/train.h"

namespace topiary {

namespace {
struct Job {
  size_t curve;
  size_t point;
  LayerPruneConfig config;
};

// Accuracy, or agreement with `reference` predictions.
double score(const EvalResult& e, const Dataset& data, const std::vector<int>* reference) {
  if (!reference) return e.accuracy;
  size_t n = std::min(e.predictions.size(), reference->size());
  if (n == 0) return 0;
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) same += e.predictions[i] == (*reference)[i];
  (void)data;
  return static_cast<double>(same) / static_cast<double>(n);
}
}  // namespace

Result<SensitivityResult> runSensitivity(const Graph& model, const Dataset& data, const SensitivityOptions& o) {
  if (data.size() == 0) return Status::badInput("sensitivity: the data set '" + data.name + "' is empty");
  // A quantized model: prune the float values its integer weights stand for.
  Graph graph = model;
  auto dequantized = dequantizeWeights(graph);
  if (!dequantized) return dequantized.status();
  for (double s : o.sparsities)
    if (!(s >= 0 && s < 1)) return Status::badInput("sensitivity: sparsity " + std::to_string(s) + " is outside [0, 1)");
  if (o.criterion == Criterion::BnScale && !isGroupGranularity(o.granularity))
    return Status::badInput(
        "sensitivity: criterion 'bn_scale' ranks channels by their BatchNorm scale: it needs "
        "granularity filter, channel or neuron (it is '" +
        std::string(granularityName(o.granularity)) + "')");
  SensitivityResult res;
  res.granularity = granularityName(o.granularity);
  res.criterion = criterionName(o.criterion);
  bool unlabeled = false;
  for (int l : data.labels) unlabeled |= l < 0;
  res.agreement = o.agreement || unlabeled;

  auto dense = evaluate(graph, data, o.batchSize, 0, o.cancel);
  if (!dense) return dense.status();
  res.samples = dense->samples;
  std::vector<int> reference = dense->predictions;
  res.denseAccuracy = res.agreement ? 1.0 : dense->accuracy;

  auto layers = findPrunableLayers(graph);
  std::vector<const PrunableLayer*> chosen;
  if (o.layers.empty())
    for (const auto& l : layers) chosen.push_back(&l);
  for (const auto& name : o.layers) {
    const PrunableLayer* l = findPrunableLayer(layers, name);
    if (!l) return Status::badInput("sensitivity: no prunable layer named '" + name + "'");
    // A layer named twice is swept once, where it was first named.
    if (std::find(chosen.begin(), chosen.end(), l) == chosen.end()) chosen.push_back(l);
  }
  std::vector<DependencyGroup> groups;
  if (isGroupGranularity(o.granularity)) {
    auto g = buildDependencyGroups(graph);
    if (!g) return g.status();
    groups = std::move(g.value());
  }
  // Jobs; a layer the granularity cannot apply to is reported as skipped.
  std::vector<Job> jobs;
  for (const PrunableLayer* L : chosen) {
    SensitivityCurve c;
    c.layer = L->node;
    c.op = L->op;
    c.params = L->numel();
    Recipe probe;
    probe.defaults.granularity = o.granularity;
    probe.defaults.criterion = o.criterion;
    probe.defaults.n = o.n;
    probe.defaults.m = o.m;
    probe.defaults.sparsity = 0.5;
    LayerOverride only;
    probe.layers[L->node] = only;
    auto rr = resolveRecipe(graph, probe, isGroupGranularity(o.granularity) ? &groups : nullptr);
    // The probe's default reaches every layer: an error about another
    // layer is about these settings, not this layer (every row said
    // "layer 'block1_conv1': ..." and the run exited 0).
    if (!rr && rr.status().message().find("layer '" + L->node + "'") == std::string::npos)
      return rr.status().withContext("sensitivity (" + std::string(granularityName(o.granularity)) + ", " +
                                     criterionName(o.criterion) + ")");
    if (!rr) c.skipped = rr.status().message();
    else if (!rr->config.layers.count(L->node)) {
      // The probe resolves the default for every layer, so its notes speak of all of them: keep this layer's.
      c.skipped = L->node + ": " + granularityName(o.granularity) + " pruning does not apply";
      for (const std::string& n : rr->notes)
        if (n.compare(0, L->node.size() + 1, L->node + ":") == 0) {
          c.skipped = n;
          break;
        }
    }
    std::vector<double> points = o.granularity == Granularity::NM
                                     ? std::vector<double>{1.0 - static_cast<double>(o.n) / o.m}
                                     : o.sparsities;
    if (c.skipped.empty()) {
      LayerPruneConfig lc = rr->config.layers.at(L->node);
      for (size_t p = 0; p < points.size(); ++p) {
        lc.sparsity = points[p];
        jobs.push_back({res.layers.size(), p, lc});
      }
      c.sparsities = points;
      c.accuracies.assign(points.size(), 0.0);
    }
    res.layers.push_back(std::move(c));
  }

  int total = static_cast<int>(jobs.size());
  int workers = o.workers > 0 ? o.workers : defaultThreadCount();
  workers = std::max(1, std::min(workers, total));
  std::atomic<int> next{0}, done{0};
  std::mutex mu;
  Status failure;
  auto worker = [&]() {
    Graph g = graph;  // each worker prunes its own copy
    while (true) {
      int j = next.fetch_add(1);
      if (j >= total) return;
      if (o.cancel && o.cancel->load()) return;
      const Job& job = jobs[static_cast<size_t>(j)];
      const std::string& layer = res.layers[job.curve].layer;
      PruneConfig pc;
      pc.layers[layer] = job.config;
      MaskOptions mo;
      mo.data = &data;
      mo.threads = 1;
      mo.groups = groups.empty() ? nullptr : &groups;
      auto masks = computeMasks(g, pc, mo);
      Status st = masks ? applyMasks(g, masks.value()) : masks.status();
      if (st) {
        auto e = evaluate(g, data, o.batchSize, 1, o.cancel);
        if (e) res.layers[job.curve].accuracies[job.point] = score(e.value(), data, res.agreement ? &reference : nullptr);
        else st = e.status();
      }
      if (masks)
        for (const auto& kv : masks.value()) g.initializers[kv.first] = graph.initializers.at(kv.first);  // undo
      if (!st) {
        std::lock_guard<std::mutex> lock(mu);
        if (failure.isOk()) failure = st.withContext("sensitivity of layer '" + layer + "'");
        next.store(total);
        return;
      }
      int d = done.fetch_add(1) + 1;
      if (o.progress) o.progress(d, total);
    }
  };
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (o.cancel && o.cancel->load()) return Status::cancelled("sensitivity analysis cancelled");
  if (!failure.isOk()) return failure;
  return res;
}

nlohmann::json sensitivityToJson(const SensitivityResult& r) {
  nlohmann::json j;
  j["metric"] = r.agreement ? "agreement" : "accuracy";
  j["dense_accuracy"] = r.denseAccuracy;
  j["samples"] = r.samples;
  j["granularity"] = r.granularity;
  j["criterion"] = r.criterion;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& c : r.layers) {
    nlohmann::json e = {{"name", c.layer}, {"op", c.op}, {"params", c.params}};
    if (!c.skipped.empty()) e["skipped"] = c.skipped;
    nlohmann::json pts = nlohmann::json::array();
    for (size_t i = 0; i < c.sparsities.size(); ++i)
      pts.push_back({{"sparsity", c.sparsities[i]}, {"accuracy", c.accuracies[i]}});
    e["points"] = pts;
    layers.push_back(e);
  }
  j["layers"] = layers;
  return j;
}

}  // namespace topiary
