// The structured-vs-unstructured verdict: matched-accuracy search, storage
// bars, latencies, and sentences built from the measured numbers.
#include "topiary/verdict.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "topiary/executor.h"
#include "topiary/prune_report.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"
#include "topiary/train.h"

namespace topiary {

double sparsityAtTolerance(const std::vector<double>& sparsities, const std::vector<double>& accuracies,
                           double reference, double tolerance) {
  double best = 0;
  // Every point up to the chosen one must hold: a curve that dips and recovers
  // at a higher sparsity is noise, not a safe operating point.
  std::vector<size_t> order(std::min(sparsities.size(), accuracies.size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sparsities[a] < sparsities[b]; });
  for (size_t i : order) {
    if (accuracies[i] < reference - tolerance - 1e-12) break;
    best = sparsities[i];
  }
  return best;
}

const VerdictCandidate* Verdict::candidate(const std::string& name) const {
  for (const auto& c : candidates)
    if (c.name == name) return &c;
  return nullptr;
}

const VerdictBar* Verdict::bar(int b, StorageFormat f) const {
  for (const auto& x : bars)
    if (x.bits == b && x.format == f) return &x;
  return nullptr;
}

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string kb(double bytes) { return bytes >= 1024 ? fmt("%.1f KB", bytes / 1024.0) : fmt("%.0f B", bytes); }

// A copy of `data` whose images fit a graph with a rank-2 input (an MLP reads flattened images).
const Dataset& shapedFor(const Graph& g, const Dataset& data, Dataset& holder) {
  if (g.inputs.size() != 1 || !g.inputs[0].hasShape) return data;
  const Shape in = g.inputs[0].shape();
  const Shape& img = data.images.shape();
  if (in.size() != 2 || img.size() <= 2) return data;
  int64_t per = 1;
  for (size_t d = 1; d < img.size(); ++d) per *= img[d];
  if (in[1] != per) return data;
  holder = data;
  holder.images.reshapeInPlace({data.size(), per});
  return holder;
}

// The first and the last prunable layers stay dense (common practice: the
// input layer has few weights and is the most sensitive, the logits layer
// decides every class), so one uniform sparsity is not capped by them.
nlohmann::json candidateRecipe(const Graph& graph, Granularity g, double sparsity, Criterion c, int n, int m) {
  nlohmann::json d = {{"granularity", granularityName(g)}, {"criterion", criterionName(c)}};
  if (g == Granularity::NM) {
    d["n"] = n;
    d["m"] = m;
  } else {
    d["sparsity"] = std::round(sparsity * 1e4) / 1e4;
  }
  nlohmann::json r = {{"default", d}, {"method", "magnitude"}};
  const auto layers = findPrunableLayers(graph);
  if (layers.size() > 2)
    r["layers"] = {{layers.front().node, {{"locked", true}}}, {layers.back().node, {{"locked", true}}}};
  return r;
}

struct Pruned {
  PruneRunResult run;
  double accuracy = 0;
};

Result<Pruned> pruneAndEvaluate(const Graph& graph, const Dataset& data, const nlohmann::json& recipeJson,
                                const VerdictOptions& o) {
  auto recipe = recipeFromJson(recipeJson);
  if (!recipe) return recipe.status();
  PruneRunOptions po;
  po.threads = o.threads;
  po.cancel = o.cancel;
  auto run = runRecipe(graph, recipe.value(), po);
  if (!run) return run.status();
  auto ev = evaluate(run->masked, data, 256, o.threads, o.cancel);
  if (!ev) return ev.status();
  Pruned p;
  p.run = std::move(run.value());
  p.accuracy = ev->accuracy;
  return p;
}

// Bisection on the uniform sparsity: accuracy falls (noisily) as sparsity rises.
Result<double> searchSparsity(const Graph& graph, const Dataset& data, Granularity g, double floorAccuracy,
                              const VerdictOptions& o, const std::function<void()>& step) {
  double lo = 0, hi = o.maxSparsity;
  for (int i = 0; i < o.searchSteps; ++i) {
    if (o.cancel && o.cancel->load()) return Status::cancelled();
    const double mid = 0.5 * (lo + hi);
    auto p = pruneAndEvaluate(graph, data, candidateRecipe(graph, g, mid, o.criterion, o.n, o.m), o);
    if (!p) return p.status();
    (p->accuracy >= floorAccuracy ? lo : hi) = mid;
    step();
  }
  return lo;
}

// Median batch-1 latency with the engine's inference optimiser (sparse
// kernels chosen per layer by timing); `kernels` lists the non-dense choices.
Result<LatencyStats> optimizedLatency(const Graph& g, int runs, int threads, std::string* kernels) {
  if (g.inputs.empty()) return Status::badInput("the model has no input");
  ExecutorOptions eo;
  eo.threads = threads;
  eo.optimizeForInference = true;
  auto ex = Executor::create(g, eo);
  if (!ex) return ex.status();
  auto input = makeInputLike(g.inputs[0], 1);
  if (!input) return input.status();
  for (int w = 0; w < 3; ++w) TOPIARY_RETURN_IF_ERROR((*ex)->run(input.value()));
  std::vector<double> ms;
  for (int r = 0; r < std::max(1, runs); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    TOPIARY_RETURN_IF_ERROR((*ex)->run(input.value()));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  LatencyStats s;
  s.runs = int(ms.size());
  s.min = ms.front();
  s.max = ms.back();
  s.median = ms[ms.size() / 2];
  const auto choices = (*ex)->kernelChoices();
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i)
    // Choices read "dense 66%", "direct", "csr 90%", "2:4", "csr-direct"...: only sparse ones are named.
    if (choices[i].find("csr") != std::string::npos || choices[i].find("2:4") != std::string::npos)
      list += (list.empty() ? "" : ", ") + (*ex)->runNode(i).name + " " + choices[i];
  *kernels = list.empty() ? "no layer chose a sparse kernel" : "sparse kernels: " + list;
  return s;
}

void addBars(Verdict& v, const VerdictCandidate& c, const std::vector<StorageFormat>& formats) {
  for (size_t i = 0; i < v.bits.size() && i < c.storage.size(); ++i)
    for (StorageFormat f : formats) {
      auto it = c.storage[i].totals.find(f);
      if (it == c.storage[i].totals.end()) continue;
      VerdictBar b;
      b.bits = v.bits[i];
      b.format = f;
      b.candidate = c.name;
      b.valueBytes = it->second.valueBits / 8.0;
      b.indexBytes = it->second.indexBits / 8.0;
      b.scaleBytes = it->second.scaleBits / 8.0;
      b.denseFallbacks = it->second.denseFallbacks;
      v.bars.push_back(b);
    }
}

// The sentences: each one states a comparison and the numbers behind it.
void writeFindings(Verdict& v) {
  const VerdictCandidate* u = v.candidate("unstructured");
  const VerdictCandidate* s = v.candidate("structured");
  if (!u || !s) return;
  v.findings.push_back("Within " + fmt("%.1f", v.tolerance * 100) + " accuracy points of the dense model (" +
                       fmt("%.1f%%", v.denseAccuracy * 100) + "), unstructured pruning removes " +
                       fmt("%.0f%%", u->weightSparsity * 100) + " of the prunable weights, structured pruning " +
                       fmt("%.0f%%", s->weightSparsity * 100) +
                       " (one-shot magnitude pruning, no fine-tuning, first and last layers dense).");
  std::vector<int> wins, losses;
  for (int b : v.bits) {
    const VerdictBar* best = nullptr;
    for (StorageFormat f : {StorageFormat::Bitmask, StorageFormat::Csr, StorageFormat::RelativeIndex}) {
      const VerdictBar* x = v.bar(b, f);
      if (x && (!best || x->total() < best->total())) best = x;
    }
    const VerdictBar* st = v.bar(b, StorageFormat::Structured);
    const VerdictBar* dense = v.bar(b, StorageFormat::Dense);
    if (!best || !st || !dense) continue;
    const double idx = best->total() > 0 ? best->indexBytes / best->total() : 0;
    v.findings.push_back("At " + std::to_string(b) + " bits the best unstructured format (" +
                         storageFormatName(best->format) + ") takes " + kb(best->total()) + ", " +
                         fmt("%.0f%%", idx * 100) + " of it index, against " + kb(st->total()) +
                         " for the physically pruned model and " + kb(dense->total()) + " dense.");
    (best->total() < st->total() ? wins : losses).push_back(b);
  }
  v.worthForStorage = !wins.empty();
  auto find = [&](const char* label) -> const VerdictLatency* {
    for (const auto& l : v.latencies)
      if (l.measured && l.label == label) return &l;
    return nullptr;
  };
  const VerdictLatency *d = find("dense"), *ud = find("unstructured, dense kernels"),
                       *sp = find("structured, physically pruned"), *dO = find("dense, optimized"),
                       *us = find("unstructured, sparse kernels"), *sO = find("structured, optimized");
  auto ratio = [](const VerdictLatency* base, const VerdictLatency* x) {
    return fmt("%.2fx", base->medianMs / x->medianMs);
  };
  if (d && ud && sp)
    v.findings.push_back("Latency with dense kernels: dense " + fmt("%.3f ms", d->medianMs) + "; unstructured " +
                         fmt("%.3f ms", ud->medianMs) + " (" + ratio(d, ud) + "); physically pruned " +
                         fmt("%.3f ms", sp->medianMs) + " (" + ratio(d, sp) + ").");
  if (dO && us && sO)
    v.findings.push_back("With the inference optimiser (sparse kernels where faster; " + us->note + "): dense " +
                         fmt("%.3f ms", dO->medianMs) + "; unstructured " + fmt("%.3f ms", us->medianMs) + " (" +
                         ratio(dO, us) + "); physically pruned " + fmt("%.3f ms", sO->medianMs) + " (" + ratio(dO, sO) +
                         ").");
  // Like with like: the best each kind of pruning gets from this engine.
  const VerdictLatency* bestU = us && (!ud || us->medianMs < ud->medianMs) ? us : ud;
  const VerdictLatency* bestS = sO && (!sp || sO->medianMs < sp->medianMs) ? sO : sp;
  const VerdictLatency* bestD = dO && (!d || dO->medianMs < d->medianMs) ? dO : d;
  if (bestU && bestS) v.worthForSpeed = bestU->medianMs < bestS->medianMs;
  auto list = [](const std::vector<int>& bits) {
    std::string s;
    for (size_t i = 0; i < bits.size(); ++i)
      s += (i ? (i + 1 == bits.size() ? " and " : ", ") : "") + std::to_string(bits[i]);
    return s + " bits";
  };
  std::string line;
  if (v.worthForStorage && v.worthForSpeed)
    line = "Worth it here: unstructured pruning is both smaller and faster";
  else if (v.worthForStorage)
    line = "Worth it for storage only: unstructured pruning is smaller at " + list(wins);
  else
    line = "Not worth it here: the physically pruned model is at least as small at every bit-width";
  if (!losses.empty() && v.worthForStorage) line += ", but not at " + list(losses) + " where its index costs too much";
  if (bestD && bestU && bestS && !v.worthForSpeed)
    line += "; it is not faster on this CPU than the physically pruned model (best speed-up over dense " +
            ratio(bestD, bestU) + " against " + ratio(bestD, bestS) + ")";
  else if (bestD && bestU && bestS && !v.worthForStorage)
    line += ", but it runs faster (best speed-up over dense " + ratio(bestD, bestU) + " against " +
            ratio(bestD, bestS) + ")";
  v.sentence = line + ".";
}

}  // namespace

Result<Verdict> computeVerdict(const Graph& graph, const Dataset& rawData, const VerdictOptions& o) {
  if (o.tolerance < 0 || o.tolerance >= 1)
    return Status::badInput("tolerance " + fmt("%g", o.tolerance) + " is outside [0, 1)");
  if (o.bits.empty()) return Status::badInput("no bit-widths to price");
  if (rawData.size() == 0) return Status::badInput("the evaluation data set '" + rawData.name + "' is empty");
  Dataset holder;
  const Dataset& data = shapedFor(graph, rawData, holder);
  Verdict v;
  v.tolerance = o.tolerance;
  v.bits = o.bits;
  const int total = 2 * o.searchSteps + 4 + (o.latencyRuns > 0 ? 6 : 0);
  int done = 0;
  auto step = [&](const std::string& stage) {
    ++done;
    if (o.progress) o.progress(stage, done, total);
  };
  auto ev = evaluate(graph, data, 256, o.threads, o.cancel);
  if (!ev) return ev.status();
  v.denseAccuracy = ev->accuracy;
  v.samples = ev->samples;
  step("dense accuracy");
  const double floorAcc = v.denseAccuracy - o.tolerance;

  struct Plan {
    const char* name;
    Granularity g;
  };
  const Plan plans[] = {
      {"unstructured", Granularity::Element}, {"nm", Granularity::NM}, {"structured", Granularity::Filter}};
  for (const Plan& pl : plans) {
    double s = 1.0 - double(o.n) / double(o.m);
    if (pl.g != Granularity::NM) {
      auto found = searchSparsity(graph, data, pl.g, floorAcc, o, [&] { step(std::string("search ") + pl.name); });
      if (!found) return found.status();
      s = found.value();
    }
    VerdictCandidate c;
    c.name = pl.name;
    c.granularity = pl.g;
    c.sparsity = s;
    c.recipe = candidateRecipe(graph, pl.g, s, o.criterion, o.n, o.m);
    auto p = pruneAndEvaluate(graph, data, c.recipe, o);
    if (!p) return p.status();
    c.accuracy = p->accuracy;
    c.weightSparsity = prunableSparsity(p->run.masked);
    c.structural = p->run.structural;
    c.masked = std::move(p->run.masked);
    c.physical = c.structural ? std::move(p->run.removed) : c.masked;
    for (int b : o.bits) {
      StorageOptions so;
      so.bits = b;
      so.n = o.n;
      so.m = o.m;
      c.storage.push_back(measureStorage(c.masked, so));
    }
    v.candidates.push_back(std::move(c));
    step(std::string("priced ") + pl.name);
  }
  addBars(v, v.candidates[0],
          {StorageFormat::Dense, StorageFormat::Bitmask, StorageFormat::Csr, StorageFormat::RelativeIndex});
  addBars(v, v.candidates[1], {StorageFormat::NM});
  addBars(v, v.candidates[2], {StorageFormat::Structured});

  if (o.latencyRuns > 0) {
    struct L {
      const char* label;
      const Graph* g;
      bool optimized;
    };
    // Plain executor: every Conv/Gemm runs its dense kernel, zeros included.
    // Inference optimiser: fusions plus, per layer, a CSR or 2:4 kernel where
    // its timing beats the dense one; the three models are compared within
    // each executor kind, never across.
    const L runs[] = {{"dense", &graph, false},
                      {"unstructured, dense kernels", &v.candidates[0].masked, false},
                      {"structured, physically pruned", &v.candidates[2].physical, false},
                      {"dense, optimized", &graph, true},
                      {"unstructured, sparse kernels", &v.candidates[0].masked, true},
                      {"structured, optimized", &v.candidates[2].physical, true}};
    for (const L& l : runs) {
      if (o.cancel && o.cancel->load()) return Status::cancelled();
      VerdictLatency x;
      x.label = l.label;
      auto lat = l.optimized ? optimizedLatency(*l.g, o.latencyRuns, o.threads, &x.note)
                             : measureLatency(*l.g, 1, o.latencyRuns, o.threads);
      if (lat) {
        x.measured = true;
        x.medianMs = lat->median;
      } else {
        x.note = lat.status().message();
      }
      v.latencies.push_back(x);
      step(std::string("latency ") + l.label);
    }
  }
  writeFindings(v);
  return v;
}

nlohmann::json verdictToJson(const Verdict& v) {
  nlohmann::json j;
  j["dense_accuracy"] = v.denseAccuracy;
  j["samples"] = v.samples;
  j["tolerance"] = v.tolerance;
  j["bits"] = v.bits;
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& c : v.candidates) {
    nlohmann::json e = {{"name", c.name},         {"granularity", granularityName(c.granularity)},
                        {"sparsity", c.sparsity}, {"weight_sparsity", c.weightSparsity},
                        {"accuracy", c.accuracy}, {"structural", c.structural},
                        {"recipe", c.recipe}};
    nlohmann::json st = nlohmann::json::object();
    for (size_t i = 0; i < c.storage.size() && i < v.bits.size(); ++i)
      st[std::to_string(v.bits[i])] = storageToJson(c.storage[i])["formats"];
    e["storage"] = st;
    cands.push_back(e);
  }
  j["candidates"] = cands;
  nlohmann::json bars = nlohmann::json::array();
  for (const auto& b : v.bars)
    bars.push_back({{"bits", b.bits},
                    {"format", storageFormatName(b.format)},
                    {"candidate", b.candidate},
                    {"value_bytes", b.valueBytes},
                    {"index_bytes", b.indexBytes},
                    {"scale_bytes", b.scaleBytes},
                    {"bytes", static_cast<int64_t>(std::ceil(b.total()))},  // whole bytes; the parts are bits / 8
                    {"dense_fallback_layers", b.denseFallbacks}});
  j["bars"] = bars;
  nlohmann::json lats = nlohmann::json::array();
  for (const auto& l : v.latencies) {
    nlohmann::json e = {{"label", l.label}, {"measured", l.measured}};
    if (l.measured)
      e["median_ms"] = l.medianMs;
    else
      e["note"] = l.note;
    lats.push_back(e);
  }
  j["latency_ms"] = lats;
  j["findings"] = v.findings;
  j["verdict"] = v.sentence;
  j["worth_for_storage"] = v.worthForStorage;
  j["worth_for_speed"] = v.worthForSpeed;
  return j;
}

}  // namespace topiary
