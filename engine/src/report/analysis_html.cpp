// The report's HTML summary and JSON: every number in them comes from the
// AnalysisReport (engine measurements), formatted here and nowhere else.
#include <cstdio>
#include <sstream>

#include "topiary/analysis_report.h"

namespace topiary {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string num(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string kb(double bytes) { return num("%.1f KB", bytes / 1024.0); }

void metricsRow(std::ostringstream& h, const char* what, const std::string& a, const std::string& b) {
  h << "<tr><td>" << what << "</td><td>" << esc(a) << "</td><td>" << esc(b) << "</td></tr>\n";
}

void storageTable(std::ostringstream& h, const ModelReport& before, const ModelReport& after) {
  h << "<table><tr><th>bits</th><th>format</th><th>before</th><th>after</th><th>after: index</th></tr>\n";
  for (size_t i = 0; i < before.storage.size() && i < after.storage.size(); ++i)
    for (const auto& kv : after.storage[i].totals) {
      auto b = before.storage[i].totals.find(kv.first);
      h << "<tr><td>" << after.storage[i].options.bits << "</td><td>" << storageFormatName(kv.first) << "</td><td>"
        << (b != before.storage[i].totals.end() ? kb(b->second.bytes()) : "") << "</td><td>" << kb(kv.second.bytes())
        << (kv.second.denseFallbacks ? " (" + std::to_string(kv.second.denseFallbacks) + " layers dense)" : "")
        << "</td><td>" << kb(kv.second.indexBits / 8.0) << "</td></tr>\n";
    }
  h << "</table>\n";
}

}  // namespace

std::string analysisReportHtml(const AnalysisReport& r) {
  std::ostringstream h;
  const std::string recipeName = r.recipeName.empty() ? std::string("recipe") : r.recipeName;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Topiary report: " << esc(r.modelPath) << " with "
    << esc(recipeName) << "</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    << "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    << "td:first-child,th:first-child{text-align:left}pre{background:#f4f4f4;padding:1em}img{max-width:100%}"
    << ".verdict{font-size:1.15em;font-weight:bold;background:#fff6dd;padding:.6em}</style></head><body>\n";
  h << "<h1>Pruning report</h1>\n<p>Model <code>" << esc(r.modelPath) << "</code>, recipe <b>" << esc(recipeName)
    << "</b>, evaluated on <code>" << esc(r.dataName) << "</code> (" << r.after.samples << " samples).</p>\n";
  h << "<h2>Before and after</h2>\n<table><tr><th></th><th>before</th><th>after"
    << (r.structural ? " (physically pruned)" : " (masked)") << "</th></tr>\n";
  metricsRow(h, "accuracy", num("%.2f%%", r.before.accuracy * 100), num("%.2f%%", r.after.accuracy * 100));
  metricsRow(h, "parameters", std::to_string(r.before.metrics.params), std::to_string(r.after.metrics.params));
  metricsRow(h, "nonzero parameters", std::to_string(r.before.metrics.nonzeroParams),
             std::to_string(r.after.metrics.nonzeroParams));
  metricsRow(h, "FLOPs (dense)", num("%.0f", r.before.flops.dense), num("%.0f", r.after.flops.dense));
  metricsRow(h, "FLOPs (zeros skipped)", num("%.0f", r.before.flops.effective), num("%.0f", r.after.flops.effective));
  metricsRow(h, "ONNX size", kb(double(r.before.metrics.sizeBytes)), kb(double(r.after.metrics.sizeBytes)));
  if (r.before.hasLatency && r.after.hasLatency)
    metricsRow(h, "latency, median (batch 1)", num("%.3f ms", r.before.latency.median),
               num("%.3f ms", r.after.latency.median));
  h << "</table>\n<h2>Trade-off</h2>\n<img src=\"tradeoff.png\" alt=\"accuracy vs size\">\n";
  h << "<h2>Storage of the pruned weights</h2>\n";
  storageTable(h, r.before, r.after);
  if (r.hasVerdict) {
    const Verdict& v = r.verdict;
    h << "<h2>Is unstructured pruning worth it here?</h2>\n<p class=\"verdict\">" << esc(v.sentence) << "</p>\n<ul>\n";
    for (const auto& f : v.findings) h << "<li>" << esc(f) << "</li>\n";
    h << "</ul>\n<img src=\"storage.png\" alt=\"storage breakdown\">\n<table><tr><th>candidate</th><th>granularity</th>"
      << "<th>sparsity</th><th>zero weights</th><th>accuracy</th><th>recipe</th></tr>\n";
    for (const auto& c : v.candidates)
      h << "<tr><td>" << esc(c.name) << "</td><td>" << granularityName(c.granularity) << "</td><td>"
        << num("%.1f%%", c.sparsity * 100) << "</td><td>" << num("%.1f%%", c.weightSparsity * 100) << "</td><td>"
        << num("%.2f%%", c.accuracy * 100) << "</td><td><code>" << esc(c.recipe.dump()) << "</code></td></tr>\n";
    h << "</table>\n<table><tr><th>latency</th><th>median</th></tr>\n";
    for (const auto& l : v.latencies)
      h << "<tr><td>" << esc(l.label) << "</td><td>" << (l.measured ? num("%.3f ms ", l.medianMs) : std::string())
        << esc(l.note) << "</td></tr>\n";
    h << "</table>\n";
  }
  if (r.hasSensitivity) {
    const SensitivityResult& s = r.sensitivity;
    h << "<h2>Sensitivity</h2>\n<img src=\"sensitivity.png\" alt=\"sensitivity curves\">\n<table><tr><th>layer</th>";
    const SensitivityCurve* first = nullptr;
    for (const auto& l : s.layers)
      if (l.skipped.empty() && !first) first = &l;
    if (first)
      for (double x : first->sparsities) h << "<th>" << num("%.0f%%", x * 100) << "</th>";
    h << "</tr>\n";
    for (const auto& l : s.layers) {
      h << "<tr><td>" << esc(l.layer) << "</td>";
      if (!l.skipped.empty()) h << "<td>skipped: " << esc(l.skipped) << "</td>";
      for (double a : l.accuracies) h << "<td>" << num("%.2f%%", a * 100) << "</td>";
      h << "</tr>\n";
    }
    h << "</table>\n<p>Dense " << (s.agreement ? "agreement" : "accuracy") << ": "
      << num("%.2f%%", s.denseAccuracy * 100) << " on " << s.samples << " samples.</p>\n";
  }
  h << "<h2>Recipe</h2>\n<p>Reproduce with <code>topiary-cli prune " << esc(r.modelPath)
    << " --recipe recipe.json --out pruned.onnx</code>.</p>\n<pre>" << esc(r.recipe.dump(2)) << "</pre>\n";
  if (!r.log.empty()) {
    h << "<h2>Log</h2>\n<pre>";
    for (const auto& l : r.log) h << esc(l) << "\n";
    h << "</pre>\n";
  }
  h << "</body></html>\n";
  return h.str();
}

nlohmann::json analysisReportJson(const AnalysisReport& r) {
  nlohmann::json j;
  j["model"] = r.modelPath;
  j["recipe_name"] = r.recipeName;
  j["data"] = r.dataName;
  j["recipe"] = r.recipe;
  j["before"] = reportToJson(r.before);
  j["after"] = reportToJson(r.after);
  j["structural"] = r.structural;
  j["log"] = r.log;
  if (r.hasSensitivity) j["sensitivity"] = sensitivityToJson(r.sensitivity);
  if (r.hasVerdict) j["verdict"] = verdictToJson(r.verdict);
  nlohmann::json t = nlohmann::json::array();
  for (const auto& p : r.tradeoff) {
    nlohmann::json e = {{"name", p.name}, {"accuracy", p.accuracy}, {"bytes", p.bytes}};
    if (p.latencyMs >= 0) e["latency_ms"] = p.latencyMs;
    t.push_back(e);
  }
  j["tradeoff"] = t;
  return j;
}

}  // namespace topiary
