// topiary-cli bench MODEL [--threads N] [--batch B] [--warmup W] [--runs R] [--compare-ort]
//                         [--no-optimize] [--profile] [--dynamic-skip T]
// Latency of the model on random inputs: W warm-up runs, then R timed runs;
// median, min and max in milliseconds. The engine runs with its inference
// optimisations (BatchNorm folding, fused activations, sparse kernels where
// they win) unless --no-optimize; --profile adds a per-layer time table with
// the kernel each layer picked. With --compare-ort, ONNX Runtime runs
// the same model on the same inputs in the same invocation (through
// tools/ort/run.mjs and Node), and the ratio ours/ORT of the medians is shown.
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "commands.h"
#include "topiary/executor.h"
#include "topiary/metrics.h"
#include "topiary/onnx_io.h"

namespace cli {
namespace {

struct Latency {
  double median = 0, min = 0, max = 0;
};

Latency summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  Latency l;
  l.min = ms.front();
  l.max = ms.back();
  l.median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  return l;
}

nlohmann::json toJson(const Latency& l) { return {{"median", l.median}, {"min", l.min}, {"max", l.max}}; }

// Parses a non-negative integer option; false (with an error printed) when
// the value is not an integer >= minValue.
bool intOption(const QCommandLineParser& p, const char* name, int minValue, int& out, int& exitCode) {
  bool ok = false;
  out = p.value(name).toInt(&ok);
  if (!ok || out < minValue) {
    exitCode = failBadInput(std::string("--") + name + " needs an integer >= " + std::to_string(minValue) + ", got '" +
                            str(p.value(name)) + "'");
    return false;
  }
  return true;
}

// tools/ort/run.mjs: $TOPIARY_ORT_RUNNER, or found by walking up from the
// executable (build/app/cli/topiary-cli sits three levels below the sources).
QString findOrtRunner() {
  QString env = qEnvironmentVariable("TOPIARY_ORT_RUNNER");
  if (!env.isEmpty()) return env;
  QDir dir(QCoreApplication::applicationDirPath());
  for (int up = 0; up < 6; ++up) {
    QString candidate = dir.filePath("tools/ort/run.mjs");
    if (QFileInfo::exists(candidate)) return candidate;
    if (!dir.cdUp()) break;
  }
  return {};
}

// Runs ONNX Runtime on the model with the given inputs; fills `lat` or returns an error.
topiary::Status benchOrt(const std::string& model, const std::vector<topiary::NamedTensor>& inputs, int threads,
                         int warmup, int runs, Latency& lat) {
  QString runner = findOrtRunner();
  if (runner.isEmpty())
    return topiary::Status::badInput("--compare-ort needs tools/ort/run.mjs (set TOPIARY_ORT_RUNNER to its path)");
  QTemporaryDir tmp;
  if (!tmp.isValid()) return topiary::Status::internal("cannot create a temporary folder for ONNX Runtime's inputs");
  QStringList args{runner,
                   "--model",
                   QString::fromStdString(model),
                   "--threads",
                   QString::number(threads),
                   "--warmup",
                   QString::number(warmup),
                   "--runs",
                   QString::number(runs)};
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string file = str(tmp.filePath(QString("input_%1.pb").arg(i)));
    TOPIARY_RETURN_IF_ERROR(topiary::saveTensorProto(inputs[i].tensor, inputs[i].name, file));
    args << "--input" << QString::fromStdString(inputs[i].name + "=" + file);
  }
  QProcess node;
  node.start(qEnvironmentVariable("TOPIARY_NODE", "node"), args);
  if (!node.waitForStarted(30000))
    return topiary::Status::badInput("--compare-ort needs Node.js ('node' on PATH or $TOPIARY_NODE)");
  node.closeWriteChannel();
  if (!node.waitForFinished(30 * 60 * 1000) || node.exitStatus() != QProcess::NormalExit || node.exitCode() != 0) {
    std::string err = QString::fromUtf8(node.readAllStandardError()).trimmed().toStdString();
    if (err.rfind("error: ", 0) == 0) err = err.substr(7);
    return topiary::Status::badInput("ONNX Runtime failed: " + (err.empty() ? std::string("no message") : err));
  }
  auto j = nlohmann::json::parse(node.readAllStandardOutput().toStdString(), nullptr, false);
  if (!j.is_object() || !j.contains("latency_ms"))
    return topiary::Status::internal("ONNX Runtime's runner printed no latency report");
  lat.median = j["latency_ms"].value("median", 0.0);
  lat.min = j["latency_ms"].value("min", 0.0);
  lat.max = j["latency_ms"].value("max", 0.0);
  return topiary::Status::ok();
}

}  // namespace

int cmdBench(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file");
  p.addOption(QCommandLineOption("threads", "Threads for our engine and ONNX Runtime (0: every core).", "N", "0"));
  p.addOption(QCommandLineOption("batch", "Batch size for symbolic batch dimensions.", "B", "1"));
  p.addOption(QCommandLineOption("warmup", "Untimed runs first.", "W", "3"));
  p.addOption(QCommandLineOption("runs", "Timed runs.", "R", "20"));
  p.addOption(QCommandLineOption("no-optimize",
                                 "Run the graph as stored: no BatchNorm folding, activation fusion "
                                 "or sparse kernels."));
  p.addOption(QCommandLineOption("profile",
                                 "Per-layer time (summed over the timed runs) and kernel choice; adds "
                                 "key layers."));
  p.addOption(QCommandLineOption("compare-ort",
                                 "Also time ONNX Runtime on the same inputs (needs Node and "
                                 "node_modules/onnxruntime-node); adds keys ort.latency_ms and ratio "
                                 "(our median / ORT's median)."));
  p.addOption(QCommandLineOption("dynamic-skip",
                                 "Run-time channel skipping at threshold T (see eval --dynamic-skip); adds key "
                                 "saved_fraction (FLOPs skipped over dense FLOPs, mean over the batch). Random "
                                 "inputs leave few channels silent: eval on real data is the better measure.",
                                 "T"));
  int code = 0;
  if (!parseArgs(p, args, "Measure a model's latency on random inputs: median, min, max in milliseconds.", code))
    return code;
  if (p.positionalArguments().size() != 1) return failBadInput("bench takes exactly one MODEL argument");
  int threads = 0, batch = 0, warmup = 0, runs = 0;
  if (!intOption(p, "threads", 0, threads, code) || !intOption(p, "batch", 1, batch, code) ||
      !intOption(p, "warmup", 0, warmup, code) || !intOption(p, "runs", 1, runs, code))
    return code;
  if (threads == 0) threads = topiary::defaultThreadCount();

  std::string path = str(p.positionalArguments()[0]);
  auto g = topiary::loadModel(path);
  if (!g) return fail(g.status());
  if (g->inputs.empty()) return failBadInput(path + ": the model has no runtime inputs to benchmark with");

  // Random inputs: uniform [-1, 1] for float; other types stay zero, which is
  // a valid index or shape value in most models.
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<topiary::NamedTensor> inputs;
  for (const auto& info : g->inputs) {
    if (p.isSet("batch") && info.hasShape && !info.dims.empty() && info.dims[0].value >= 0 &&
        info.dims[0].value != batch)
      return failBadInput(path + ": input '" + info.name + "' has a fixed batch dimension of " +
                          std::to_string(info.dims[0].value) + ", so --batch " + std::to_string(batch) +
                          " cannot apply");
    auto t = topiary::makeInputLike(info, batch);
    if (!t) return fail(t.status().withContext(path));
    if (t->dtype() == topiary::DType::Float)
      for (int64_t i = 0; i < t->numel(); ++i) t->at(i) = uniform(rng);
    inputs.push_back({info.name, std::move(t.value())});
  }
  int64_t effectiveBatch = inputs[0].tensor.rank() > 0 ? inputs[0].tensor.dim(0) : 1;

  topiary::ExecutorOptions opts;
  opts.threads = threads;
  opts.optimizeForInference = !p.isSet("no-optimize");
  if (p.isSet("dynamic-skip")) {
    bool ok = false;
    opts.dynamicSkipThreshold = p.value("dynamic-skip").toFloat(&ok);
    if (!ok || !(opts.dynamicSkipThreshold >= 0) || !std::isfinite(opts.dynamicSkipThreshold) ||
        !opts.optimizeForInference)
      return failBadInput("--dynamic-skip needs a finite threshold >= 0 (and no --no-optimize), got '" +
                          str(p.value("dynamic-skip")) + "'");
  }
  auto ex = topiary::Executor::create(g.value(), opts);
  if (!ex) return fail(ex.status().withContext(path));
  std::vector<std::pair<std::string, const topiary::Tensor*>> feed;
  for (const auto& nt : inputs) feed.emplace_back(nt.name, &nt.tensor);
  for (int i = 0; i < warmup; ++i) {
    topiary::Status st = (*ex)->run(feed);
    if (!st) return fail(st.withContext(path));
  }
  const bool profile = p.isSet("profile");
  if (profile) (*ex)->setProfiling(true);
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    topiary::Status st = (*ex)->run(feed);
    auto t1 = std::chrono::steady_clock::now();
    if (!st) return fail(st.withContext(path));
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  Latency ours = summarize(times);

  nlohmann::json j = {{"model", path},
                      {"threads", threads},
                      {"batch", effectiveBatch},
                      {"warmup", warmup},
                      {"runs", runs},
                      {"latency_ms", toJson(ours)},
                      {"optimized", opts.optimizeForInference}};
  nlohmann::json layers = nlohmann::json::array();
  if (profile) {
    std::vector<std::string> choices = (*ex)->kernelChoices();
    for (size_t n = 0; n < (*ex)->nodeCount(); ++n) {
      const topiary::Node& node = (*ex)->runNode(n);
      layers.push_back(
          {{"name", node.label()},
           {"op", node.opType + (node.hasAttr("topiary.act") ? "+" + node.attrString("topiary.act", "") : "")},
           {"kernel", choices[n]},
           {"ms", (*ex)->nodeMilliseconds()[n] / runs}});
    }
    j["layers"] = layers;
    j["optimizations"] = (*ex)->optimizationLog();
  }
  Latency ort;
  bool compare = p.isSet("compare-ort");
  double savedFraction = -1;
  if (opts.dynamicSkipThreshold >= 0) {
    auto m = topiary::measureModel(g.value());
    if (!m) return fail(m.status().withContext(path));
    std::vector<double> saved = (*ex)->dynamicSkippedFlops();
    savedFraction = 0;
    for (double s : saved)
      savedFraction += m->flops > 0 ? s / m->flops / static_cast<double>(saved.size()) : 0.0;
    j["dynamic_skip"] = opts.dynamicSkipThreshold;
    j["saved_fraction"] = savedFraction;
  }
  if (compare) {
    topiary::Status st = benchOrt(path, inputs, threads, warmup, runs, ort);
    if (!st) return fail(st);
    j["ort"] = {{"latency_ms", toJson(ort)}};
    j["ratio"] = ort.median > 0 ? ours.median / ort.median : 0.0;
  }
  if (p.isSet("json")) {
    printJson(j);
    return 0;
  }
  std::printf("model    %s\nthreads  %d   batch %lld   warm-up %d   runs %d\n\n", path.c_str(), threads,
              static_cast<long long>(effectiveBatch), warmup, runs);
  std::printf("%-14s %12s %12s %12s\n", "latency (ms)", "median", "min", "max");
  std::printf("%-14s %12.4f %12.4f %12.4f\n", "topiary", ours.median, ours.min, ours.max);
  if (savedFraction >= 0)
    std::printf("dynamic skipping at %g: %.1f%% of the dense FLOPs skipped (mean over the batch)\n",
                opts.dynamicSkipThreshold, 100 * savedFraction);
  if (compare) {
    std::printf("%-14s %12.4f %12.4f %12.4f\n", "onnxruntime", ort.median, ort.min, ort.max);
    std::printf("\nratio topiary/onnxruntime (median): %.2f\n", j["ratio"].get<double>());
  }
  if (profile) {
    std::printf("\n%-28s %-22s %-8s %10s\n", "layer", "op", "kernel", "ms/run");
    for (const auto& l : layers)
      std::printf("%-28s %-22s %-8s %10.4f\n", l["name"].get<std::string>().c_str(), l["op"].get<std::string>().c_str(),
                  l["kernel"].get<std::string>().c_str(), l["ms"].get<double>());
    for (const auto& line : (*ex)->optimizationLog()) std::printf("optimised: %s\n", line.c_str());
  }
  return 0;
}

}  // namespace cli
