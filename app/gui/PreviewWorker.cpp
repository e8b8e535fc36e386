#include "PreviewWorker.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <algorithm>
#include <chrono>

#include "ValidationData.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/quantize.h"
#include "topiary/recipe.h"
#include "topiary/storage.h"
#include "topiary/train.h"

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

// Median single-image latency of the graph in milliseconds (-1 on failure).
double medianLatencyMs(const topiary::Graph& g, const topiary::Dataset* data, int threads,
                       const std::atomic<bool>& cancel) {
  topiary::ExecutorOptions eo;
  eo.threads = threads;
  auto ex = topiary::Executor::create(g, eo);
  if (!ex) return -1;
  topiary::Tensor input;
  if (data) {
    data->batch(0, 1, input);
  } else {
    auto t = topiary::makeInputLike(g.inputs[0], 1);
    if (!t) return -1;
    input = std::move(t.value());
  }
  using Clock = std::chrono::steady_clock;
  std::vector<double> ms;
  // A median of a handful of runs is stable to a few percent on a quiet
  // machine; more runs would only delay the preview (the benchmark job is
  // there for careful numbers).
  const auto budget = Clock::now() + std::chrono::milliseconds(40);
  for (int i = 0; i < 2; ++i)  // warm-up: buffers allocated, caches filled
    if (!(*ex)->run(input)) return -1;
  for (int i = 0; i < 15 && (ms.size() < 5 || Clock::now() < budget); ++i) {
    if (cancel.load()) return -1;
    auto t0 = Clock::now();
    if (!(*ex)->run(input)) return -1;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

bool parseStorage(const QString& name, topiary::StorageFormat& out) {
  for (topiary::StorageFormat f : topiary::allStorageFormats())
    if (name == topiary::storageFormatName(f)) {
      out = f;
      return true;
    }
  return false;
}

}  // namespace

PreviewWorker::PreviewWorker(std::shared_ptr<std::atomic<quint64>> latest, QObject* parent)
    : QObject(parent), latest_(std::move(latest)), data_(std::make_unique<ValidationData>("fashion-mnist", kDefaultValidationImages)) {}

PreviewWorker::~PreviewWorker() = default;

void PreviewWorker::setData(const QString& spec, qint64 limit) {
  data_ = std::make_unique<ValidationData>(spec, limit);
}

void PreviewWorker::run(const PreviewRequest& req) {
  // Requests queue up while one runs; only the newest is worth computing
  // (a baseline is always computed: the "before" column needs it).
  if (!req.baseline && (req.generation < latest_->load() || (req.cancel && req.cancel->load()))) {
    emit skipped(req.generation);
    return;
  }
  emit started(req.generation);
  PreviewResult r = compute(req);
  if (req.cancel && req.cancel->load()) {
    emit skipped(req.generation);
    return;
  }
  emit finished(r);
}

PreviewResult PreviewWorker::compute(const PreviewRequest& req) {
  QElapsedTimer timer, phase;
  timer.start();
  phase.start();
  PreviewResult r;
  r.generation = req.generation;
  r.baseline = req.baseline;
  r.plan = req.plan;
  static const std::atomic<bool> never{false};
  const std::atomic<bool>& cancel = req.cancel ? *req.cancel : never;
  auto lap = [&](const char* name) { r.phaseMs[name] = phase.nsecsElapsed() / 1e6; phase.restart(); };
  auto fail = [&](const QString& why) {
    r.ok = false;
    r.error = why;
    r.elapsedMs = timer.nsecsElapsed() / 1e6;
    return r;
  };
  if (!req.model) return fail("no model");
  const LoadedModel& model = *req.model;
  const topiary::Graph& graph = *model.graph;

  // The plan goes through the recipe parser and resolver, the same path as
  // `topiary-cli prune --recipe`, so an exported recipe reproduces it.
  const QByteArray json = QJsonDocument(req.plan.toRecipe()).toJson(QJsonDocument::Compact);
  auto recipe = topiary::parseRecipe(json.toStdString());
  if (!recipe) return fail(qs(recipe.status().message()));
  const std::vector<topiary::DependencyGroup>* groups = model.groups.empty() ? nullptr : &model.groups;
  auto resolved = topiary::resolveRecipe(graph, recipe.value(), groups);
  if (!resolved) return fail(qs(resolved.status().message()));
  for (const auto& n : resolved->notes) r.notes << qs(n);

  QString dataWhy;
  const topiary::Dataset* data = data_->forGraph(graph, &dataWhy);
  topiary::MaskOptions mo;
  mo.data = data;
  mo.groups = groups;
  mo.cancel = &cancel;
  mo.threads = req.threads;
  auto masks = topiary::computeMasks(graph, resolved->config, mo);
  if (!masks) return fail(qs(masks.status().message()));
  if (cancel.load()) return fail("cancelled");

  topiary::Graph pruned = graph;
  topiary::Status st = topiary::applyMasks(pruned, masks.value());
  if (!st) return fail(qs(st.message()));
  r.masks = std::make_shared<const topiary::MaskSet>(std::move(masks.value()));
  lap("masks");

  // Per-layer sparsity on the masked graph (original shapes, names intact).
  double prunableFlops = 0, keptFlops = 0;
  for (const LayerInfo& li : model.layers) {
    auto it = pruned.initializers.find(li.weight.toStdString());
    if (it == pruned.initializers.end()) continue;
    const topiary::Tensor& w = it->second;
    int64_t nz = 0;
    for (int64_t i = 0; i < w.numel(); ++i) nz += w.f()[i] != 0.f;
    const double density = w.numel() ? double(nz) / double(w.numel()) : 1.0;
    r.layerSparsity[li.name] = 1.0 - density;
    r.layerNonzeros[li.name] = nz + (li.params - w.numel());
    prunableFlops += li.flops;
    keptFlops += li.flops * density;
  }
  r.flops = model.metrics.flops;
  r.effectiveFlops = r.flops - prunableFlops + keptFlops;

  // What export writes: removed layers and all-zero channels physically gone
  // (filter/channel/neuron granularities), so size and latency are those of
  // the smaller model, not of a model full of zeros.
  for (const auto& layer : resolved->removeLayers) {
    st = topiary::removeLayer(pruned, layer);
    if (!st) r.notes << qs(st.message());
    else r.structural = true;
  }
  // Physical removal rebuilds the dependency groups after each group it
  // shrinks: 1.3 s on mobilenet-tiny. When it was that slow once for a model,
  // later previews keep the zeros in place (same accuracy; size and latency
  // then of the masked model, which the note says) to stay interactive.
  const bool compactSlow = slowCompaction_ == req.model.get();
  if (compactSlow) {
    r.notes << QString("size and latency of the masked model: removing channels took %1 ms on this model, too slow "
                       "for a live preview (the export removes them)")
                   .arg(slowCompactionMs_, 0, 'f', 0);
  } else {
    QElapsedTimer ct;
    ct.start();
    auto removed = topiary::removeMaskedChannels(pruned, resolved->config);
    if (!removed) r.notes << "channels not removed: " + qs(removed.status().message());
    else r.channelsRemoved = removed.value();
    const double ms = ct.nsecsElapsed() / 1e6;
    if (ms > kSlowCompactionMs) {
      slowCompaction_ = req.model.get();
      slowCompactionMs_ = ms;
    }
  }
  r.structural = r.structural || r.channelsRemoved > 0;
  if (req.plan.global().quantBits > 0) {
    st = topiary::fakeQuantizeGraph(pruned, {req.plan.global().quantBits, true});
    if (!st) r.notes << "not quantized: " + qs(st.message());
  }
  r.params = pruned.paramCount();
  r.nonzeroParams = pruned.nonzeroParamCount();
  lap("compact");
  if (cancel.load()) return fail("cancelled");

  // Size: the ONNX file with zeros stored, and the chosen storage model.
  auto bytes = topiary::serializeModel(pruned);
  r.denseBytes = bytes ? qint64(bytes->size()) : 0;
  topiary::StorageOptions so;
  so.bits = req.plan.global().quantBits > 0 ? req.plan.global().quantBits : 32;
  topiary::StorageFormat fmt = topiary::StorageFormat::Dense;
  parseStorage(req.plan.global().storage, fmt);
  r.storageName = QString("%1 @ %2 bit").arg(topiary::storageFormatName(fmt)).arg(so.bits);
  topiary::ModelStorage storage = topiary::measureStorage(pruned, so);
  auto tot = storage.totals.find(fmt);
  r.storageBytes = tot != storage.totals.end() ? qint64(tot->second.bytes()) : r.denseBytes;
  if (tot != storage.totals.end() && tot->second.denseFallbacks > 0)
    r.notes << QString("%1 layer(s) priced dense: %2 does not apply")
                   .arg(tot->second.denseFallbacks)
                   .arg(topiary::storageFormatName(fmt));
  lap("size");
  if (cancel.load()) return fail("cancelled");

  if (data) {
    auto ev = topiary::evaluate(pruned, *data, 250, req.threads, &cancel);
    if (!ev) {
      if (ev.status().kind() == topiary::ErrorKind::Cancelled) return fail("cancelled");
      r.notes << "accuracy unavailable: " + qs(ev.status().message());
    } else {
      r.accuracyValid = true;
      r.accuracy = ev->accuracy;
      r.samples = ev->samples;
    }
  } else {
    r.notes << "accuracy unavailable: " + dataWhy;
  }
  lap("accuracy");
  if (req.measureLatency) r.latencyMs = medianLatencyMs(pruned, data, req.threads, cancel);
  lap("latency");
  if (cancel.load()) return fail("cancelled");
  r.ok = true;
  r.elapsedMs = timer.nsecsElapsed() / 1e6;
  return r;
}
