// Reports of a model for the prune command and the GUI.
#include "topiary/prune_report.h"

#include <algorithm>
#include <chrono>

#include "topiary/executor.h"
#include "topiary/prune.h"
#include "topiary/train.h"

namespace topiary {

Result<LatencyStats> measureLatency(const Graph& graph, int batch, int runs, int threads) {
  ExecutorOptions eo;
  eo.threads = threads;
  auto ex = Executor::create(graph, eo);
  if (!ex) return ex.status();
  auto zeros = ZeroFeed::make(graph, batch, eo.maxTensorBytes);  // the executor's cap, not a second default
  if (!zeros) return zeros.status();
  const auto& feed = zeros->feed;
  for (int w = 0; w < 3; ++w) TOPIARY_RETURN_IF_ERROR((*ex)->run(feed));  // warm-up: buffers, caches, threads
  std::vector<double> ms;
  runs = std::max(1, runs);
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    TOPIARY_RETURN_IF_ERROR((*ex)->run(feed));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  LatencyStats s;
  s.runs = runs;
  s.batch = batch;
  s.min = ms.front();
  s.max = ms.back();
  s.median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
  return s;
}

Result<EffectiveFlops> measureEffectiveFlops(const Graph& graph) {
  auto ex = Executor::create(graph);
  if (!ex) return ex.status();
  TOPIARY_RETURN_IF_ERROR((*ex)->runOnZeros());
  EffectiveFlops f;
  f.perNodeDense = (*ex)->nodeFlops();
  f.perNodeEffective = f.perNodeDense;
  for (const auto& L : findPrunableLayers(graph)) {
    int ni = graph.findNode(L.node);
    if (ni < 0) continue;
    const Node& n = graph.nodes[static_cast<size_t>(ni)];
    const Tensor* out = n.outputs.empty() ? nullptr : (*ex)->value(n.outputs[0]);
    if (!out || L.outUnits == 0) continue;
    double uses = static_cast<double>(out->numel()) / static_cast<double>(L.outUnits);
    const Tensor& w = graph.initializers.at(L.weight);
    int64_t zeros = 0;
    for (int64_t i = 0; i < w.numel(); ++i) zeros += w.f()[i] == 0.f;
    // Every node reading this (possibly shared) weight saves the same.
    for (size_t k = 0; k < graph.nodes.size(); ++k)
      if (graph.nodes[k].inputs.size() > 1 && graph.nodes[k].inputs[1] == L.weight)
        f.perNodeEffective[k] = std::max(0.0, f.perNodeEffective[k] - 2.0 * static_cast<double>(zeros) * uses);
  }
  for (size_t k = 0; k < f.perNodeDense.size(); ++k) {
    f.dense += f.perNodeDense[k];
    f.effective += f.perNodeEffective[k];
  }
  return f;
}

Result<ModelReport> measureReport(const Graph& graph, const ReportOptions& o) {
  ModelReport r;
  auto m = measureModel(graph);
  if (!m) return m.status();
  r.metrics = std::move(m.value());
  auto f = measureEffectiveFlops(graph);
  if (!f) return f.status();
  r.flops = std::move(f.value());
  for (int b : o.bits) {
    StorageOptions so;
    so.bits = b;
    so.perChannel = o.perChannel;
    so.n = o.n;
    so.m = o.m;
    r.storage.push_back(measureStorage(graph, so));
  }
  if (o.latencyRuns > 0) {
    auto l = measureLatency(graph, o.batch, o.latencyRuns, o.threads);
    if (!l) return l.status();
    r.latency = l.value();
    r.hasLatency = true;
  }
  if (o.data) {
    auto e = evaluate(graph, *o.data, 256, o.threads, o.cancel);
    if (!e) return e.status();
    r.hasAccuracy = true;
    r.accuracy = e->accuracy;
    r.samples = e->samples;
  }
  return r;
}

void priceAsRecipe(const Recipe& recipe, ReportOptions& options) {
  const int bits = recipe.quantize.bits;
  if (bits > 0 && std::find(options.bits.begin(), options.bits.end(), bits) == options.bits.end())
    options.bits.push_back(bits);
  if (bits > 0) options.perChannel = recipe.quantize.perChannel;  // one scale per tensor: 32 bits, not one per channel
  if (recipe.defaults.granularity == Granularity::NM) {
    options.n = recipe.defaults.n;
    options.m = recipe.defaults.m;
    return;
  }
  for (const auto& kv : recipe.layers)
    if (kv.second.granularity == Granularity::NM) {
      options.n = kv.second.n.value_or(recipe.defaults.n);
      options.m = kv.second.m.value_or(recipe.defaults.m);
    }
}

nlohmann::json reportToJson(const ModelReport& r) {
  nlohmann::json j = metricsToJson(r.metrics);
  j["effective_flops"] = r.flops.effective;
  for (size_t i = 0; i < j["layers"].size() && i < r.flops.perNodeEffective.size(); ++i)
    j["layers"][i]["effective_flops"] = r.flops.perNodeEffective[i];
  if (r.hasLatency)
    j["latency_ms"] = {{"median", r.latency.median}, {"min", r.latency.min}, {"max", r.latency.max},
                       {"runs", r.latency.runs}, {"batch", r.latency.batch}};
  if (r.hasAccuracy) {
    j["accuracy"] = r.accuracy;
    j["samples"] = r.samples;
  }
  nlohmann::json s = nlohmann::json::object();
  for (const auto& ms : r.storage) s[std::to_string(ms.options.bits)] = storageToJson(ms);
  j["storage"] = s;
  return j;
}

}  // namespace topiary
