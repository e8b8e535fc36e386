// topiary-cli eval MODEL --data SPEC: top-1 accuracy, samples, latency per batch.
// With --dynamic-skip T[,T...]: the dense model and run-time channel skipping
// at each threshold, evaluated batch by batch in turn (so a busy machine
// slows them alike), with the FLOPs saved per input.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "topiary/dataset.h"
#include "topiary/executor.h"
#include "topiary/metrics.h"
#include "topiary/onnx_io.h"
#include "topiary/train.h"

namespace cli {
namespace {

struct SkipRun {
  float threshold = -1;  // negative: the dense model
  std::unique_ptr<topiary::Evaluator> eval;
  std::vector<double> savedFraction;   // per input: FLOPs skipped / dense FLOPs
  std::vector<double> silentFraction;  // per input: FLOPs over silent channels (skipped or not) / dense
};

nlohmann::json latencyJson(const topiary::EvalResult& r) {
  double mn = r.batchMs.empty() ? 0 : *std::min_element(r.batchMs.begin(), r.batchMs.end());
  double mx = r.batchMs.empty() ? 0 : *std::max_element(r.batchMs.begin(), r.batchMs.end());
  return {{"median", r.latencyMsPerBatch}, {"min", mn}, {"max", mx}};
}

// Mean, min and max of per-input fractions.
nlohmann::json summary(const std::vector<double>& f) {
  double mean = 0;
  for (double v : f) mean += v / static_cast<double>(std::max<size_t>(1, f.size()));
  return {{"mean", mean},
          {"min", f.empty() ? 0.0 : *std::min_element(f.begin(), f.end())},
          {"max", f.empty() ? 0.0 : *std::max_element(f.begin(), f.end())}};
}

// --dynamic-skip: the dense run and one run per threshold, interleaved per batch.
int evalDynamic(const std::string& path, const topiary::Graph& g, const topiary::Dataset& data,
                const std::vector<float>& thresholds, int batch, int threads, bool json, bool profile) {
  auto metrics = topiary::measureModel(g);
  if (!metrics) return fail(metrics.status().withContext(path));
  const double flops = metrics->flops;  // dense, one input
  std::vector<SkipRun> runs(thresholds.size() + 1);
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].threshold = i == 0 ? -1.f : thresholds[i - 1];
    topiary::ExecutorOptions eo;
    eo.threads = threads;
    eo.dynamicSkipThreshold = runs[i].threshold;
    auto ev = topiary::Evaluator::create(g, eo);
    if (!ev) return fail(ev.status().withContext(path));
    runs[i].eval = std::move(ev.value());
    if (profile) runs[i].eval->executor().setProfiling(true);
  }
  topiary::Dataset slice;
  slice.name = data.name;
  slice.numClasses = data.numClasses;
  for (int64_t begin = 0; begin < data.size(); begin += batch) {
    data.batch(begin, std::min<int64_t>(batch, data.size() - begin), slice.images, &slice.labels);
    for (auto& run : runs) {
      topiary::Status st = run.eval->add(slice, batch);
      if (!st) return fail(st.withContext(path));
      if (run.threshold < 0) continue;
      for (double s : run.eval->executor().dynamicSkippedFlops()) run.savedFraction.push_back(flops > 0 ? s / flops : 0);
      for (double s : run.eval->executor().dynamicSkippedFlops(true))
        run.silentFraction.push_back(flops > 0 ? s / flops : 0);
    }
  }
  const topiary::EvalResult dense = runs[0].eval->result();
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 1; i < runs.size(); ++i) {
    const topiary::EvalResult r = runs[i].eval->result();
    rows.push_back({{"threshold", runs[i].threshold},
                    {"accuracy", r.accuracy},
                    {"samples", r.samples},
                    {"latency_ms", latencyJson(r)},
                    {"latency_ratio", dense.latencyMsPerBatch > 0 ? r.latencyMsPerBatch / dense.latencyMsPerBatch : 0.0},
                    {"saved_fraction", summary(runs[i].savedFraction)},
                    {"silent_fraction", summary(runs[i].silentFraction)}});
  }
  // Per Conv: time summed over the data set, per run (the optimised graphs
  // have the same nodes whatever the threshold), and the kernel last used.
  nlohmann::json layers = nlohmann::json::array();
  if (profile) {
    topiary::Executor& ex0 = runs[0].eval->executor();
    for (size_t n = 0; n < ex0.nodeCount(); ++n) {
      if (ex0.runNode(n).opType != "Conv") continue;
      nlohmann::json ms = nlohmann::json::array(), kernels = nlohmann::json::array();
      for (auto& run : runs) {
        topiary::Executor& ex = run.eval->executor();
        ms.push_back(n < ex.nodeMilliseconds().size() ? ex.nodeMilliseconds()[n] : 0.0);
        kernels.push_back(n < ex.kernelChoices().size() ? ex.kernelChoices()[n] : std::string());
      }
      layers.push_back({{"name", ex0.runNode(n).label()}, {"ms", ms}, {"kernel", kernels}});
    }
  }
  if (json) {
    nlohmann::json j = {{"model", path},
               {"data", data.name},
               {"accuracy", dense.accuracy},
               {"samples", dense.samples},
               {"loss", dense.loss},
               {"batch", batch},
               {"flops", flops},
               {"latency_ms", latencyJson(dense)},
               {"dynamic", rows}};
    if (profile) j["layers"] = layers;  // ms and kernel: [dense, each threshold]
    printJson(j);
    return 0;
  }
  std::printf("model     %s\ndata      %s (%lld samples)\nflops     %s per input (dense)\nbatch     %d\n\n",
              path.c_str(), data.name.c_str(), static_cast<long long>(dense.samples), humanCount(flops).c_str(), batch);
  std::printf("%-10s %9s %14s %8s %26s %8s\n", "threshold", "accuracy", "ms/batch (med)", "vs dense",
              "FLOPs saved mean/min/max", "silent");
  std::printf("%-10s %9.4f %14.3f %8.2f %26s %8s\n", "dense", dense.accuracy, dense.latencyMsPerBatch, 1.0, "-", "-");
  for (const auto& r : rows) {
    char saved[64];
    std::snprintf(saved, sizeof saved, "%.1f%% / %.1f%% / %.1f%%", 100 * r["saved_fraction"]["mean"].get<double>(),
                  100 * r["saved_fraction"]["min"].get<double>(), 100 * r["saved_fraction"]["max"].get<double>());
    std::printf("%-10g %9.4f %14.3f %8.2f %26s %7.1f%%\n", r["threshold"].get<double>(), r["accuracy"].get<double>(),
                r["latency_ms"]["median"].get<double>(), r["latency_ratio"].get<double>(), saved,
                100 * r["silent_fraction"]["mean"].get<double>());
  }
  if (profile) {
    std::printf("\n%-24s %10s", "Conv (ms, whole data)", "dense");
    for (float t : thresholds) std::printf(" %10g", t);
    std::printf("   kernel at the last threshold\n");
    for (const auto& l : layers) {
      std::printf("%-24s", l["name"].get<std::string>().c_str());
      for (const auto& v : l["ms"]) std::printf(" %10.2f", v.get<double>());
      std::printf("   %s\n", l["kernel"].back().get<std::string>().c_str());
    }
  }
  std::printf("\nsaved: FLOPs the Convs skipped per input; silent: FLOPs over every silent channel (mean),\n"
              "skipped or not (an image runs the ordinary kernel where compacting it was timed slower)\n");
  return 0;
}

}  // namespace

int cmdEval(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file");
  p.addOption(QCommandLineOption("data", "Data spec (default fashion-mnist, the test split).", "SPEC", "fashion-mnist"));
  p.addOption(QCommandLineOption("limit", "Evaluate only the first N samples (default 0: all).", "N", "0"));
  p.addOption(QCommandLineOption("batch", "Batch size (default 256).", "B", "256"));
  p.addOption(QCommandLineOption("threads", "Threads (default: all cores).", "N", "0"));
  p.addOption(QCommandLineOption("dynamic-skip",
                                 "Dynamic pruning: also evaluate with run-time channel skipping at each "
                                 "threshold T (comma-separated, >= 0; a Conv skips an input's channels "
                                 "whose max |a| <= T), interleaved with the dense model; adds key dynamic.",
                                 "T[,T...]"));
  p.addOption(QCommandLineOption("profile", "With --dynamic-skip: time per Conv for each run; adds key layers."));
  int code = 0;
  if (!parseArgs(p, args, "Measure a classifier's top-1 accuracy and latency on a data set.", code)) return code;
  if (p.positionalArguments().size() != 1) return failBadInput("eval takes exactly one MODEL argument");
  bool ok1 = false, ok2 = false, ok3 = false;
  long long limit = p.value("limit").toLongLong(&ok1);
  int batch = p.value("batch").toInt(&ok2);
  int threads = p.value("threads").toInt(&ok3);
  if (!ok1 || limit < 0) return failBadInput("--limit must be a non-negative integer, got '" + str(p.value("limit")) + "'");
  if (!ok2 || batch < 1 || batch > 65536) return failBadInput("--batch must be a positive integer, got '" + str(p.value("batch")) + "'");
  if (!ok3 || threads < 0 || threads > 1024) return failBadInput("--threads must be a non-negative integer");
  if (p.isSet("profile") && !p.isSet("dynamic-skip"))
    return failBadInput(
        "--profile times each Conv of a --dynamic-skip run; give --dynamic-skip T (bench --profile "
        "times every layer of a plain run)");
  std::string path = str(p.positionalArguments()[0]), spec = str(p.value("data"));
  auto g = topiary::loadModel(path);
  if (!g) return fail(g.status());
  topiary::DatasetOptions dopt;
  dopt.limit = limit;
  auto data = topiary::loadDataset(spec, dopt);
  if (!data) return fail(data.status());
  std::vector<float> thresholds;
  if (p.isSet("dynamic-skip")) {
    if (data->size() == 0) return failBadInput("the data set '" + data->name + "' is empty");
    for (const QString& part : p.value("dynamic-skip").split(',')) {
      bool ok = false;
      float t = part.trimmed().toFloat(&ok);
      // inf passed `t >= 0` and printed as "threshold": null in the JSON.
      if (!ok || !(t >= 0) || !std::isfinite(t))
        return failBadInput("--dynamic-skip needs finite thresholds >= 0 separated by commas, got '" + str(part) + "'");
      thresholds.push_back(t);
    }
    return evalDynamic(path, g.value(), data.value(), thresholds, batch, threads, p.isSet("json"), p.isSet("profile"));
  }
  auto r = topiary::evaluate(g.value(), data.value(), batch, threads);
  if (!r) return fail(r.status().withContext(path));
  double mn = r->batchMs.empty() ? 0 : *std::min_element(r->batchMs.begin(), r->batchMs.end());
  double mx = r->batchMs.empty() ? 0 : *std::max_element(r->batchMs.begin(), r->batchMs.end());
  if (p.isSet("json")) {
    printJson({{"model", path},
               {"data", data->name},
               {"accuracy", r->accuracy},
               {"samples", r->samples},
               {"loss", r->loss},
               {"batch", batch},
               {"latency_ms", {{"median", r->latencyMsPerBatch}, {"min", mn}, {"max", mx}}},
               {"seconds", r->seconds}});
    return 0;
  }
  std::printf("model     %s\ndata      %s (%lld samples)\naccuracy  %.4f\nloss      %.4f\n", path.c_str(),
              data->name.c_str(), static_cast<long long>(r->samples), r->accuracy, r->loss);
  std::printf("latency   %.2f ms median per batch of %d (min %.2f, max %.2f)\ntime      %.2f s (%.0f images/s)\n",
              r->latencyMsPerBatch, batch, mn, mx, r->seconds,
              r->seconds > 0 ? static_cast<double>(r->samples) / r->seconds : 0.0);
  return 0;
}

}  // namespace cli
