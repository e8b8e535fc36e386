// Building the analysis report (run the recipe, measure, analyse) and writing
// its folder; the HTML lives in analysis_html.cpp, the charts in charts.cpp.
#include "topiary/analysis_report.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "report/charts.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/quantize.h"

namespace topiary {

namespace {

double smallestBytes(const ModelStorage& s) {
  double best = -1;
  for (const auto& kv : s.totals)
    if (kv.second.denseFallbacks == 0 || kv.first == StorageFormat::Dense)
      best = best < 0 ? kv.second.bytes() : std::min(best, kv.second.bytes());
  return best;
}

TradeoffPoint pointOf(const std::string& name, const ModelReport& r) {
  TradeoffPoint p;
  p.name = name;
  p.accuracy = r.accuracy;
  p.bytes = r.storage.empty() ? double(r.metrics.sizeBytes) : smallestBytes(r.storage.front());
  p.latencyMs = r.hasLatency ? r.latency.median : -1;
  return p;
}

}  // namespace

Result<AnalysisReport> buildAnalysisReport(const Graph& graph, const Recipe& recipe, const Dataset& eval,
                                           const AnalysisOptions& o) {
  AnalysisReport rep;
  rep.modelPath = o.modelPath;
  rep.recipeName = o.recipeName;
  rep.dataName = eval.name;
  rep.recipe = recipeToJson(recipe);
  auto say = [&](const std::string& stage, double f) {
    if (o.progress) o.progress(stage, f);
  };
  auto cancelled = [&] { return o.cancel && o.cancel->load(); };

  ReportOptions ro;
  ro.data = &eval;
  ro.latencyRuns = o.latencyRuns;
  ro.threads = o.threads;
  ro.cancel = o.cancel;
  // Priced as `topiary-cli prune` prices it (a 1:4 recipe's N:M storage was
  // priced as 2:4, twice what prune reported).
  priceAsRecipe(recipe, ro);
  say("measuring the model", 0.0);
  auto before = measureReport(graph, ro);
  if (!before) return before.status();
  rep.before = std::move(before.value());
  if (cancelled()) return Status::cancelled();

  say("running the recipe", 0.1);
  PruneRunOptions po;
  po.trainData = o.trainData;
  po.threads = o.threads;
  po.cancel = o.cancel;
  auto run = runRecipe(graph, recipe, po);
  if (!run) return run.status();
  rep.structural = run->structural;
  rep.log = run->log;
  say("measuring the pruned model", 0.3);
  const Graph& pruned = run->structural ? run->removed : run->masked;
  auto after = measureReport(pruned, ro);
  if (!after) return after.status();
  rep.after = std::move(after.value());
  if (recipe.quantize.bits > 0) {
    // What the recipe exports (`topiary-cli prune`, the workbench) stores
    // int8 codes read through DequantizeLinear: its size and latency are that
    // model's, not the float one's (an 8-bit LeNet-5 read 242 KB, not 64 KB).
    auto q = exportQdq(pruned, {recipe.quantize.bits, recipe.quantize.perChannel});
    if (!q) return q.status();
    auto bytes = serializeModel(q.value());
    if (!bytes) return bytes.status();
    rep.after.metrics.sizeBytes = static_cast<int64_t>(bytes->size());
    if (rep.after.hasLatency) {
      auto lat = measureLatency(q.value(), ro.batch, ro.latencyRuns, ro.threads);
      if (!lat) return lat.status();
      rep.after.latency = lat.value();
    }
  }
  rep.tradeoff.push_back(pointOf("dense", rep.before));
  rep.tradeoff.push_back(pointOf(o.recipeName.empty() ? "recipe" : o.recipeName, rep.after));
  if (cancelled()) return Status::cancelled();

  if (o.sensitivity) {
    SensitivityOptions so = o.sensitivityOptions;
    so.cancel = o.cancel;
    so.progress = [&](int done, int total) { say("sensitivity", 0.35 + 0.35 * done / std::max(1, total)); };
    auto s = runSensitivity(graph, eval, so);
    if (!s) return s.status();
    rep.sensitivity = std::move(s.value());
    rep.hasSensitivity = true;
  }
  if (o.verdict) {
    VerdictOptions vo = o.verdictOptions;
    vo.cancel = o.cancel;
    vo.threads = o.threads;
    vo.latencyRuns = o.latencyRuns;
    vo.progress = [&](const std::string& stage, int done, int total) {
      say("verdict: " + stage, 0.7 + 0.3 * done / std::max(1, total));
    };
    auto v = computeVerdict(graph, eval, vo);
    if (!v) return v.status();
    rep.verdict = std::move(v.value());
    rep.hasVerdict = true;
    for (const auto& c : rep.verdict.candidates) {
      TradeoffPoint p;
      p.name = c.name;
      p.accuracy = c.accuracy;
      p.bytes = c.storage.empty() ? 0 : smallestBytes(c.storage.front());
      rep.tradeoff.push_back(p);
    }
  }
  say("done", 1.0);
  return rep;
}

std::vector<std::string> analysisReportFiles() {
  return {"index.html", "tradeoff.png", "sensitivity.png", "storage.png", "report.json", "recipe.json"};
}

std::string tradeoffChartPng(const AnalysisReport& r) {
  report::XYChart c;
  c.title = "Accuracy vs stored size (smallest format at 32 bits)";
  c.xLabel = "stored size (KB)";
  c.yLabel = "accuracy";
  c.yPercent = true;
  for (const auto& p : r.tradeoff) {
    report::Series s;
    s.name = p.name;
    s.lines = false;
    s.x = {p.bytes / 1024.0};
    s.y = {p.accuracy};
    c.series.push_back(s);
  }
  return report::drawXYChart(c).png();
}

std::string sensitivityChartPng(const SensitivityResult& s) {
  report::XYChart c;
  c.title = "Sensitivity: " + std::string(s.agreement ? "agreement" : "accuracy") +
            " vs sparsity, one layer at a time (" + s.granularity + ", " + s.criterion + ")";
  c.xLabel = "sparsity of the layer";
  c.yLabel = s.agreement ? "agreement" : "accuracy";
  c.xPercent = true;
  c.yPercent = true;
  for (const auto& l : s.layers) {
    if (!l.skipped.empty() || l.sparsities.empty()) continue;
    report::Series x;
    x.name = l.layer;
    x.x = l.sparsities;
    x.y = l.accuracies;
    c.series.push_back(x);
  }
  return report::drawXYChart(c).png();
}

std::string storageChartPng(const Verdict& v) {
  report::StackedBarChart c;
  c.title = "Storage at matched accuracy: values, index overhead and scales";
  c.yLabel = "KB";
  c.segments = {"values", "index", "scales"};
  c.colors = {{70, 130, 180}, {230, 120, 40}, {150, 150, 150}};
  for (int b : v.bits) {
    report::BarGroup g;
    g.label = std::to_string(b) + " bits";
    for (const auto& bar : v.bars) {
      if (bar.bits != b) continue;
      std::string label = storageFormatName(bar.format);
      // Short enough for one line under a bar.
      if (label == "relative_index") label = "rel.";
      if (label == "structured") label = "phys.";
      if (label == "bitmask") label = "mask";
      g.bars.push_back({label, {bar.valueBytes / 1024.0, bar.indexBytes / 1024.0, bar.scaleBytes / 1024.0}});
    }
    c.groups.push_back(g);
  }
  return report::drawStackedBars(c).png();
}

Status writeAnalysisReport(const std::string& dir, const AnalysisReport& r) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::badInput("cannot create the report folder '" + dir + "': " + ec.message());
  const std::string base = dir + "/";
  struct File {
    const char* name;
    std::string bytes;
  };
  std::vector<File> files = {{"index.html", analysisReportHtml(r)},
                             {"tradeoff.png", tradeoffChartPng(r)},
                             {"report.json", analysisReportJson(r).dump(2) + "\n"},
                             {"recipe.json", r.recipe.dump(2) + "\n"}};
  if (r.hasSensitivity) files.push_back({"sensitivity.png", sensitivityChartPng(r.sensitivity)});
  if (r.hasVerdict) files.push_back({"storage.png", storageChartPng(r.verdict)});
  for (const File& f : files) {
    Status st = writeFileAtomic(base + f.name, f.bytes, r.modelPath);
    if (!st) return st;
  }
  return Status::ok();
}

}  // namespace topiary
