// The analysis report: one folder with PNG charts (accuracy/size trade-off,
// sensitivity curves, storage breakdown with index overhead) and an HTML
// summary of the model before and after a recipe, the recipe itself and the
// measured numbers. `topiary-cli report` and the GUI's "Export Report" both
// call buildAnalysisReport + writeAnalysisReport, so they write the same
// folder. Charts are drawn by the engine itself (no Qt here).
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "topiary/dataset.h"
#include "topiary/graph.h"
#include "topiary/prune_report.h"
#include "topiary/recipe.h"
#include "topiary/sensitivity.h"
#include "topiary/status.h"
#include "topiary/verdict.h"

namespace topiary {

// One point of the trade-off chart.
struct TradeoffPoint {
  std::string name;
  double accuracy = 0;    // 0..1
  double bytes = 0;       // smallest storage at 32 bits (any format)
  double latencyMs = -1;  // -1: not measured
};

struct AnalysisReport {
  std::string modelPath, recipeName, dataName;
  nlohmann::json recipe;      // recipeToJson of the recipe that ran
  // after: the physically pruned model when the recipe removed structure; when
  // it quantizes, size and latency are those of the exported QDQ model.
  ModelReport before, after;
  bool structural = false;
  std::vector<std::string> log;  // runRecipe's notes
  bool hasSensitivity = false;
  SensitivityResult sensitivity;
  bool hasVerdict = false;
  Verdict verdict;
  std::vector<TradeoffPoint> tradeoff;  // before, after, the verdict's candidates, plus any the caller adds
};

struct AnalysisOptions {
  std::string modelPath, recipeName;
  const Dataset* trainData = nullptr;  // the recipe's fine-tuning data, when it fine-tunes
  int latencyRuns = 20;
  int threads = 0;
  bool sensitivity = true;
  SensitivityOptions sensitivityOptions;  // element/l1 at 0.1..0.9 by default
  bool verdict = true;
  VerdictOptions verdictOptions;
  // stage name and overall fraction 0..1; called from the calling thread or engine workers.
  std::function<void(const std::string& stage, double fraction)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

// Runs the recipe on a copy of `graph`, measures before/after on `eval`,
// and (when asked) the sensitivity curves and the verdict.
Result<AnalysisReport> buildAnalysisReport(const Graph& graph, const Recipe& recipe, const Dataset& eval,
                                           const AnalysisOptions& options = {});

// Names of the files a report folder holds.
std::vector<std::string>
analysisReportFiles();  // index.html, tradeoff.png, sensitivity.png, storage.png, report.json, recipe.json

// Writes the folder (created when missing; files written atomically).
Status writeAnalysisReport(const std::string& dir, const AnalysisReport& report);

// The pieces, exposed for the GUI and tests.
std::string analysisReportHtml(const AnalysisReport& report);
nlohmann::json analysisReportJson(const AnalysisReport& report);
std::string tradeoffChartPng(const AnalysisReport& report);
std::string sensitivityChartPng(const SensitivityResult& s);
std::string storageChartPng(const Verdict& v);

}  // namespace topiary
