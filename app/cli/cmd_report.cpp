// topiary-cli report MODEL --recipe R.json --data SPEC --out DIR: runs a recipe
// and writes the analysis report folder (PNG charts + HTML summary), the same
// folder the GUI's Analysis > Export Report writes.
#include <QFileInfo>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "topiary/analysis_report.h"
#include "topiary/dataset.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"
#include "topiary/recipe.h"

namespace cli {

int cmdReport(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file");
  p.addOption(QCommandLineOption("recipe", "Pruning recipe (JSON).", "R.json"));
  p.addOption(QCommandLineOption("data", "Evaluation data spec (e.g. fashion-mnist).", "SPEC"));
  p.addOption(QCommandLineOption("out", "Report folder to write (created when missing).", "DIR"));
  p.addOption(QCommandLineOption("limit", "Evaluate on the first N samples only (default 0: all).", "N", "0"));
  p.addOption(QCommandLineOption("train-data", "Fine-tuning data (default: the recipe's finetune.data).", "SPEC"));
  p.addOption(QCommandLineOption("sparsities", "Sensitivity sparsities (default 0.1,0.3,0.5,0.7,0.9).", "LIST",
                                 "0.1,0.3,0.5,0.7,0.9"));
  p.addOption(QCommandLineOption(
      "tolerance", "Accuracy drop allowed for the verdict's matched accuracy (default 0.01).", "T", "0.01"));
  p.addOption(QCommandLineOption("latency-runs", "Timed runs per latency (default 20; 0: none).", "N", "20"));
  p.addOption(QCommandLineOption("threads", "Threads (default: every core).", "N", "0"));
  p.addOption(QCommandLineOption("no-sensitivity", "Skip the sensitivity analysis."));
  p.addOption(QCommandLineOption("no-verdict", "Skip the structured-vs-unstructured verdict."));
  int code = 0;
  if (!parseArgs(p, args, "Run a recipe and write a report folder: PNG charts and an HTML summary.", code)) return code;
  if (p.positionalArguments().size() != 1) return failBadInput("report takes exactly one MODEL argument");
  if (!p.isSet("recipe")) return failBadInput("report needs --recipe R.json");
  if (!p.isSet("data")) return failBadInput("report needs --data SPEC");
  if (!p.isSet("out")) return failBadInput("report needs --out DIR");
  bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
  const long long limit = p.value("limit").toLongLong(&ok1);
  const int runs = p.value("latency-runs").toInt(&ok2);
  const int threads = p.value("threads").toInt(&ok3);
  const double tolerance = p.value("tolerance").toDouble(&ok4);
  if (!ok1 || limit < 0)
    return failBadInput("--limit must be a non-negative integer, got '" + str(p.value("limit")) + "'");
  if (!ok2 || runs < 0 || runs > 100000) return failBadInput("--latency-runs must be a non-negative integer");
  if (!ok3 || threads < 0 || threads > 1024) return failBadInput("--threads must be a non-negative integer");
  if (!ok4 || !(tolerance >= 0 && tolerance < 1)) return failBadInput("--tolerance must be a number in [0, 1)");
  topiary::AnalysisOptions o;
  o.sensitivityOptions.sparsities.clear();
  for (const QString& s : p.value("sparsities").split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const double v = s.trimmed().toDouble(&ok);
    if (!ok || !(v >= 0 && v < 1)) return failBadInput("--sparsities: '" + str(s) + "' is not a number in [0, 1)");
    o.sensitivityOptions.sparsities.push_back(v);
  }
  if (o.sensitivityOptions.sparsities.empty()) return failBadInput("--sparsities is empty");

  const std::string modelPath = str(p.positionalArguments()[0]), outDir = str(p.value("out"));
  if (QFileInfo(p.value("out")).isFile()) return failBadInput("--out '" + outDir + "' is a file; give a folder");
  // The folder's files are written over: never over an input (a recipe named
  // recipe.json beside the report overwrote it, comments and all).
  const std::string recipePath = str(p.value("recipe"));
  for (const std::string& file : topiary::analysisReportFiles()) {
    const std::string target = outDir + "/" + file;
    for (const auto& input : {std::make_pair("model", modelPath), std::make_pair("recipe", recipePath)})
      if (topiary::sameFile(target, input.second))
        return failBadInput("--out '" + outDir + "': the report's " + file + " would overwrite the input " +
                            input.first + " " + input.second + "; choose another folder");
  }
  auto recipe = topiary::loadRecipe(recipePath);
  if (!recipe) return fail(recipe.status());
  auto model = topiary::loadModel(modelPath);
  if (!model) return fail(model.status());
  topiary::DatasetOptions dopt;
  dopt.limit = limit;
  auto eval = topiary::loadDataset(str(p.value("data")), dopt);
  if (!eval) return fail(eval.status());
  topiary::Dataset trainData;
  const std::string trainSpec = p.isSet("train-data") ? str(p.value("train-data")) : recipe->finetune.data;
  if (!trainSpec.empty()) {
    topiary::DatasetOptions topt;
    topt.limit = recipe->finetune.limit;
    auto d = topiary::loadDataset(trainSpec, topt);
    if (!d) return fail(d.status().withContext("finetune.data"));
    trainData = std::move(d.value());
  }

  const bool json = p.isSet("json");
  o.modelPath = modelPath;
  o.recipeName = QFileInfo(p.value("recipe")).fileName().toStdString();
  o.trainData = trainSpec.empty() ? nullptr : &trainData;
  o.latencyRuns = runs;
  o.threads = threads;
  o.sensitivity = !p.isSet("no-sensitivity");
  o.verdict = !p.isSet("no-verdict");
  o.verdictOptions.tolerance = tolerance;
  std::string lastStage;
  o.progress = [json, &lastStage](const std::string& stage, double) {
    // Stages only: the sensitivity workers call this concurrently, and the
    // stage string is the same for all of them.
    if (!json && stage != "sensitivity" && stage != lastStage) {
      lastStage = stage;
      std::fprintf(stderr, "%s\n", stage.c_str());
    }
  };
  auto rep = topiary::buildAnalysisReport(model.value(), recipe.value(), eval.value(), o);
  if (!rep) return fail(rep.status().withContext(modelPath));
  topiary::Status st = topiary::writeAnalysisReport(outDir, rep.value());
  if (!st) return fail(st);

  if (json) {
    nlohmann::json j = topiary::analysisReportJson(rep.value());
    j["out"] = outDir;
    j["files"] = topiary::analysisReportFiles();
    printJson(j);
    return 0;
  }
  std::printf("report written to %s/index.html\n", outDir.c_str());
  std::printf("accuracy %.2f%% -> %.2f%%, nonzero params %lld -> %lld\n", 100 * rep->before.accuracy,
              100 * rep->after.accuracy, static_cast<long long>(rep->before.metrics.nonzeroParams),
              static_cast<long long>(rep->after.metrics.nonzeroParams));
  if (rep->hasVerdict) std::printf("verdict: %s\n", rep->verdict.sentence.c_str());
  return 0;
}

}  // namespace cli
