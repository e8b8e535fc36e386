// topiary-cli eval MODEL --data SPEC: top-1 accuracy, samples, latency per batch.
#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "topiary/dataset.h"
#include "topiary/onnx_io.h"
#include "topiary/train.h"

namespace cli {

int cmdEval(const QStringList& args) {
  QCommandLineParser p;
  p.addPositionalArgument("model", "ONNX model file");
  p.addOption(QCommandLineOption("data", "Data spec (default fashion-mnist, the test split).", "SPEC", "fashion-mnist"));
  p.addOption(QCommandLineOption("limit", "Evaluate only the first N samples.", "N", "0"));
  p.addOption(QCommandLineOption("batch", "Batch size (default 256).", "B", "256"));
  p.addOption(QCommandLineOption("threads", "Threads (default: all cores).", "N", "0"));
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
  std::string path = str(p.positionalArguments()[0]), spec = str(p.value("data"));
  auto g = topiary::loadModel(path);
  if (!g) return fail(g.status());
  topiary::DatasetOptions dopt;
  dopt.limit = limit;
  auto data = topiary::loadDataset(spec, dopt);
  if (!data) return fail(data.status());
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
