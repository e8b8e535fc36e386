// topiary-cli sensitivity MODEL --data SPEC: per-layer accuracy vs sparsity.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <unistd.h>

#include "commands.h"
#include "topiary/dataset.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"
#include "topiary/sensitivity.h"

namespace cli {

int cmdSensitivity(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file");
  p.addOption(QCommandLineOption("data", "Data spec (e.g. fashion-mnist).", "SPEC"));
  p.addOption(QCommandLineOption("granularity", "element | nm | kernel | filter | channel | neuron (default element).", "G", "element"));
  p.addOption(QCommandLineOption("criterion", "l1 | l2 | taylor | bn_scale | random (default l1).", "C", "l1"));
  p.addOption(QCommandLineOption("sparsities", "Comma-separated sparsities (default 0.1,0.3,0.5,0.7,0.9).", "LIST",
                                 "0.1,0.3,0.5,0.7,0.9"));
  p.addOption(QCommandLineOption("layers", "Comma-separated layer names (default: every prunable layer).", "LIST"));
  p.addOption(QCommandLineOption("limit", "Use the first N samples only (default 0: all).", "N", "0"));
  p.addOption(QCommandLineOption(
      "threads", "Threads, each sweeping one (layer, sparsity) at a time (default: all cores).", "N", "0"));
  p.addOption(QCommandLineOption("workers", "The same as --threads (its older name).", "N", "0"));
  p.addOption(QCommandLineOption("agreement", "Measure top-1 agreement with the dense model instead of accuracy."));
  p.addOption(QCommandLineOption("out", "Write the JSON result to this file.", "S.json"));
  int code = 0;
  if (!parseArgs(p, args, "Prune one layer at a time and measure accuracy at each sparsity.", code)) return code;
  if (p.positionalArguments().size() != 1) return failBadInput("sensitivity takes exactly one MODEL argument");
  if (!p.isSet("data")) return failBadInput("sensitivity needs --data SPEC");
  topiary::SensitivityOptions o;
  if (!topiary::parseGranularity(str(p.value("granularity")), o.granularity) || o.granularity == topiary::Granularity::Layer)
    return failBadInput("--granularity '" + str(p.value("granularity")) + "' is not one of element, nm, kernel, filter, channel, neuron");
  if (!topiary::parseCriterion(str(p.value("criterion")), o.criterion))
    return failBadInput("--criterion '" + str(p.value("criterion")) + "' is not one of l1, l2, taylor, bn_scale, random");
  o.sparsities.clear();
  for (const QString& s : p.value("sparsities").split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    double v = s.trimmed().toDouble(&ok);
    if (!ok || !(v >= 0 && v < 1)) return failBadInput("--sparsities: '" + str(s) + "' is not a number in [0, 1)");
    o.sparsities.push_back(v);
  }
  if (o.sparsities.empty()) return failBadInput("--sparsities is empty");
  if (p.isSet("layers"))
    for (const QString& s : p.value("layers").split(',', Qt::SkipEmptyParts))
      if (!s.trimmed().isEmpty()) o.layers.push_back(str(s.trimmed()));  // the engine sweeps a repeated name once
  bool ok1 = false;
  long long limit = p.value("limit").toLongLong(&ok1);
  if (!ok1 || limit < 0) return failBadInput("--limit must be a non-negative integer, got '" + str(p.value("limit")) + "'");
  // --threads as in every other command; --workers, its older name, still
  // works, and both given must agree.
  int threads = 0;
  for (const char* name : {"threads", "workers"}) {
    if (!p.isSet(name)) continue;
    bool ok = false;
    const int v = p.value(name).toInt(&ok);
    if (!ok || v < 0 || v > 256)
      return failBadInput(std::string("--") + name + " must be an integer from 0 to 256, got '" + str(p.value(name)) +
                          "'");
    if (p.isSet("threads") && std::string(name) == "workers" && v != threads)
      return failBadInput("--threads " + std::to_string(threads) + " and --workers " + std::to_string(v) +
                          " disagree; --workers is the older name of --threads, give one of them");
    threads = v;
  }
  o.workers = threads;
  o.agreement = p.isSet("agreement");
  bool json = p.isSet("json");
  // A progress counter on a terminal only: redirected to a file, its
  // carriage returns would run 90 counts into one line.
  const bool tty = ::isatty(2) != 0 && !json;
  o.progress = [tty](int done, int total) {
    if (tty) std::fprintf(stderr, "\r%d/%d", done, total);
  };
  std::string path = str(p.positionalArguments()[0]);
  if (p.isSet("out")) {
    const std::string out = str(p.value("out"));
    topiary::Status st = topiary::checkOutputPath(out, path);
    if (st) st = checkNotDataFile(out, str(p.value("data")), "--data");
    if (!st) return fail(st.withContext("--out"));
  }
  auto g = topiary::loadModel(path);
  if (!g) return fail(g.status());
  topiary::DatasetOptions dopt;
  dopt.limit = limit;
  auto data = topiary::loadDataset(str(p.value("data")), dopt);
  if (!data) return fail(data.status());
  auto r = topiary::runSensitivity(g.value(), data.value(), o);
  if (tty) std::fprintf(stderr, "\n");
  if (!r) return fail(r.status().withContext(path));
  nlohmann::json j = topiary::sensitivityToJson(r.value());
  j["model"] = path;
  j["data"] = data->name;
  if (p.isSet("out")) {
    topiary::Status st = topiary::writeFileAtomic(str(p.value("out")), j.dump(2) + "\n", path);
    if (!st) return fail(st);
  }
  if (json) {
    printJson(j);
    return 0;
  }
  std::printf("%s on %s (%lld samples), %s %s, dense %s %.4f\n\n", path.c_str(), data->name.c_str(),
              static_cast<long long>(r->samples), r->granularity.c_str(), r->criterion.c_str(),
              r->agreement ? "agreement" : "accuracy", r->denseAccuracy);
  // Whole names: exporters' names share long prefixes (model/conv2d/BiasAdd,
  // model/conv2d_1/BiasAdd), and cut to one width two layers read the same.
  int width = 20;
  for (const auto& c : r->layers) width = std::max(width, static_cast<int>(c.layer.size()));
  for (const auto& c : r->layers) {
    std::printf("%-*s %-6s", width, c.layer.c_str(), c.op.c_str());
    if (!c.skipped.empty()) std::printf(" skipped: %s", c.skipped.c_str());
    for (size_t i = 0; i < c.sparsities.size(); ++i) std::printf("  %.0f%%:%.3f", 100 * c.sparsities[i], c.accuracies[i]);
    std::printf("\n");
  }
  return 0;
}

}  // namespace cli
