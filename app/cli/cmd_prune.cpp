// topiary-cli prune MODEL --recipe R.json --out OUT.onnx [--data SPEC]:
// runs a recipe and prints a before/after report (masked and physically
// pruned views side by side, storage of each sparse format).
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "topiary/dataset.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_report.h"
#include "topiary/prune_run.h"
#include "topiary/quantize.h"

namespace cli {

namespace {

void printReportRow(const char* label, const topiary::ModelReport& r) {
  std::printf("%-9s %10s %10s %10s %10s %10s %9s", label, humanCount(static_cast<double>(r.metrics.params)).c_str(),
              humanCount(static_cast<double>(r.metrics.nonzeroParams)).c_str(), humanCount(r.flops.dense).c_str(),
              humanCount(r.flops.effective).c_str(), humanBytes(static_cast<double>(r.metrics.sizeBytes)).c_str(),
              r.hasLatency ? (std::to_string(r.latency.median).substr(0, 6) + "ms").c_str() : "-");
  if (r.hasAccuracy) std::printf(" %8.4f", r.accuracy);
  std::printf("\n");
}

void printStorage(const char* label, const topiary::ModelReport& r) {
  for (const auto& s : r.storage) {
    std::printf("%-9s %2d-bit:", label, s.options.bits);
    for (const auto& kv : s.totals)
      std::printf("  %s %s (idx %s)", topiary::storageFormatName(kv.first), humanBytes(kv.second.bytes()).c_str(),
                  humanBytes(static_cast<double>(kv.second.indexBits) / 8.0).c_str());
    std::printf("\n");
  }
}

}  // namespace

int cmdPrune(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file (never overwritten)");
  p.addOption(QCommandLineOption("recipe", "Recipe JSON file.", "R.json"));
  p.addOption(QCommandLineOption("out", "Output ONNX file.", "OUT.onnx"));
  p.addOption(QCommandLineOption("data", "Data spec to measure accuracy before and after (e.g. fashion-mnist).", "SPEC"));
  p.addOption(QCommandLineOption("limit", "Evaluate on the first N samples only (default 0: all).", "N", "0"));
  p.addOption(QCommandLineOption("train-data", "Fine-tuning data spec (overrides the recipe's finetune.data).", "SPEC"));
  p.addOption(QCommandLineOption("keep-shapes", "Write the masked model (original shapes) even when channels were removed."));
  p.addOption(QCommandLineOption("latency-runs", "Timed runs for latency (default 20, 0: skip).", "N", "20"));
  p.addOption(QCommandLineOption("threads", "Threads (default: all cores).", "N", "0"));
  p.addOption(QCommandLineOption("seed", "Seed for random criteria and shuffling (default 1).", "S", "1"));
  int code = 0;
  if (!parseArgs(p, args, "Prune a model with a recipe and report before/after.", code)) return code;
  if (p.positionalArguments().size() != 1) return failBadInput("prune takes exactly one MODEL argument");
  if (!p.isSet("recipe")) return failBadInput("prune needs --recipe R.json");
  if (!p.isSet("out")) return failBadInput("prune needs --out OUT.onnx");
  bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
  long long limit = p.value("limit").toLongLong(&ok1);
  int runs = p.value("latency-runs").toInt(&ok2);
  int threads = p.value("threads").toInt(&ok3);
  unsigned long long seed = p.value("seed").toULongLong(&ok4);
  if (!ok1 || limit < 0) return failBadInput("--limit must be a non-negative integer, got '" + str(p.value("limit")) + "'");
  if (!ok2 || runs < 0 || runs > 100000) return failBadInput("--latency-runs must be a non-negative integer");
  if (!ok3 || threads < 0 || threads > 1024) return failBadInput("--threads must be a non-negative integer");
  if (!ok4) return failBadInput("--seed must be a non-negative integer");
  std::string modelPath = str(p.positionalArguments()[0]), outPath = str(p.value("out"));
  if (topiary::sameFile(modelPath, outPath))
    return failBadInput("--out '" + outPath + "' is the input model; refusing to overwrite it");
  if (topiary::sameFile(str(p.value("recipe")), outPath))
    return failBadInput("--out '" + outPath + "' is the recipe; refusing to overwrite it");
  if (topiary::Status st = topiary::checkOutputPath(outPath); !st) return fail(st.withContext("--out"));

  auto recipe = topiary::loadRecipe(str(p.value("recipe")));
  if (!recipe) return fail(recipe.status());
  for (const auto& [spec, option] : {std::pair<std::string, std::string>{str(p.value("data")), "--data"},
                                     {str(p.value("train-data")), "--train-data"},
                                     {recipe->finetune.data, "the recipe's finetune.data"}})
    if (topiary::Status st = checkNotDataFile(outPath, spec, option); !st) return fail(st.withContext("--out"));
  auto model = topiary::loadModel(modelPath);
  if (!model) return fail(model.status());

  topiary::DatasetOptions dopt;
  dopt.limit = limit;
  topiary::Dataset evalData, trainData;
  bool haveEval = p.isSet("data");
  if (haveEval) {
    auto d = topiary::loadDataset(str(p.value("data")), dopt);
    if (!d) return fail(d.status());
    evalData = std::move(d.value());
  }
  std::string trainSpec = p.isSet("train-data") ? str(p.value("train-data")) : recipe->finetune.data;
  bool haveTrain = !trainSpec.empty();
  if (haveTrain) {
    topiary::DatasetOptions topt;
    topt.limit = recipe->finetune.limit;
    auto d = topiary::loadDataset(trainSpec, topt);
    if (!d) return fail(d.status().withContext("finetune.data"));
    trainData = std::move(d.value());
  }

  topiary::ReportOptions ro;
  ro.latencyRuns = runs;
  ro.threads = threads;
  ro.data = haveEval ? &evalData : nullptr;
  topiary::priceAsRecipe(recipe.value(), ro);
  auto before = topiary::measureReport(model.value(), ro);
  if (!before) return fail(before.status().withContext(modelPath));

  topiary::PruneRunOptions po;
  // Taylor importance needs gradients from labelled data; ranking on the
  // evaluation split would leak the test labels into the pruning decision.
  bool taylor = recipe->defaults.criterion == topiary::Criterion::Taylor;
  for (const auto& kv : recipe->layers) taylor |= kv.second.criterion == topiary::Criterion::Taylor;
  if (taylor && !haveTrain)
    return failBadInput("criterion 'taylor' needs training data: set finetune.data in the recipe or pass --train-data");
  // --data is the evaluation split; training takes its own (the engine's
  // messages name only the recipe key).
  const bool trains = recipe->method != topiary::PruneMethod::Magnitude || recipe->finetune.epochs > 0;
  if (trains && !haveTrain)
    return failBadInput(
        std::string(recipe->method == topiary::PruneMethod::Admm  ? "method 'admm' trains the model"
                    : recipe->method == topiary::PruneMethod::Dns ? "method 'dns' trains the model"
                                                                  : "recipe key 'finetune.epochs': fine-tuning") +
        " needs training data: set finetune.data in the recipe or pass --train-data (--data is only evaluated)");
  po.trainData = haveTrain ? &trainData : nullptr;
  po.threads = threads;
  po.seed = seed;
  bool json = p.isSet("json");
  po.progress = [json](const topiary::PruneProgress& pr) {
    if (!json && (!pr.training || pr.train.epochDone))
      std::fprintf(stderr, "%s%s\n", pr.stage.c_str(), pr.training ? " (epoch done)" : "");
    return true;
  };
  auto run = topiary::runRecipe(model.value(), recipe.value(), po);
  if (!run) return fail(run.status());

  bool writeRemoved = run->structural && !p.isSet("keep-shapes");
  const topiary::Graph& outFloat = writeRemoved ? run->removed : run->masked;
  topiary::Graph written = outFloat;
  if (recipe->quantize.bits > 0) {
    auto q = topiary::exportQdq(outFloat, {recipe->quantize.bits, recipe->quantize.perChannel});
    if (!q) return fail(q.status());
    written = std::move(q.value());
  }
  topiary::Status st = topiary::saveModel(written, outPath, modelPath);
  if (!st) return fail(st);

  auto masked = topiary::measureReport(run->masked, ro);
  if (!masked) return fail(masked.status());
  topiary::Result<topiary::ModelReport> removed = masked;
  if (run->structural) removed = topiary::measureReport(run->removed, ro);
  if (!removed) return fail(removed.status());
  // `after` describes the file written: its size, and its own latency when it holds QDQ nodes.
  topiary::ModelReport after = writeRemoved ? removed.value() : masked.value();
  auto bytes = topiary::readFile(outPath);
  if (bytes) after.metrics.sizeBytes = static_cast<int64_t>(bytes->size());
  if (recipe->quantize.bits > 0 && runs > 0) {
    auto lat = topiary::measureLatency(written, 1, runs, threads);
    if (lat) after.latency = lat.value();
  }

  if (json) {
    nlohmann::json j;
    j["model"] = modelPath;
    j["out"] = outPath;
    j["recipe"] = topiary::recipeToJson(recipe.value());
    j["before"] = topiary::reportToJson(before.value());
    j["after"] = topiary::reportToJson(after);
    j["masked"] = topiary::reportToJson(masked.value());
    j["removed"] = topiary::reportToJson(removed.value());
    j["structural"] = run->structural;
    j["written_view"] = writeRemoved ? "removed" : "masked";
    j["quantized_bits"] = recipe->quantize.bits;
    j["log"] = run->log;
    j["step_sparsities"] = run->stepSparsities;
    nlohmann::json dns = nlohmann::json::array();
    for (const auto& d : run->dns)
      dns.push_back({{"name", d.node}, {"weights", d.weights}, {"pruned", d.pruned}, {"splice_backs", d.spliceBacks},
                     {"prunings", d.prunings}});
    j["dns"] = dns;
    printJson(j);
    return 0;
  }
  for (const auto& l : run->log) std::printf("%s\n", l.c_str());
  std::printf("\n%-9s %10s %10s %10s %10s %10s %9s%s\n", "", "params", "nonzero", "FLOPs", "eff.FLOPs", "size",
              "latency", haveEval ? " accuracy" : "");
  printReportRow("before", before.value());
  printReportRow("masked", masked.value());
  if (run->structural) printReportRow("removed", removed.value());
  printReportRow("written", after);
  std::printf("\nstorage (index overhead in parentheses):\n");
  printStorage("before", before.value());
  printStorage("after", writeRemoved ? removed.value() : masked.value());
  std::printf("\nwrote %s (%s view%s)\n", outPath.c_str(), writeRemoved ? "physically pruned" : "masked",
              recipe->quantize.bits > 0 ? ", QDQ int8 weights" : "");
  return 0;
}

}  // namespace cli
