#include "PreviewWorker.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <algorithm>
#include <chrono>
#include <cmath>

#include "ValidationData.h"
#include "topiary/dataset.h"
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
double medianLatencyMs(const topiary::Graph& g, const topiary::Dataset* data, const topiary::ExecutorOptions& eo,
                       const std::atomic<bool>& cancel) {
  auto ex = topiary::Executor::create(g, eo);
  if (!ex) return -1;
  topiary::Tensor input;
  if (data) {
    data->batch(0, 1, input);
    topiary::fitImagesToInput(input, g.inputs[0]);  // [1, 28, 28, 1] for a channels-last model
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

topiary::ExecutorOptions PreviewWorker::latencyOptions(int threads) {
  topiary::ExecutorOptions eo;
  eo.threads = threads;
  eo.optimizeForInference = true;  // as topiary-cli bench and eval run it
  return eo;
}

PreviewWorker::PreviewWorker(std::shared_ptr<std::atomic<quint64>> latest, QObject* parent)
    : QObject(parent), latest_(std::move(latest)), data_(std::make_unique<ValidationData>("fashion-mnist", kDefaultValidationImages)) {}

PreviewWorker::~PreviewWorker() = default;

void PreviewWorker::setData(const QString& spec, qint64 limit) {
  data_ = std::make_unique<ValidationData>(spec, limit);
  split_ = SplitImages();
}

const PreviewWorker::SplitImages* PreviewWorker::split(const topiary::Dataset& data, qint64 firstStage) {
  if (firstStage <= 0 || data.size() < 2 * firstStage) return nullptr;
  if (split_.source != &data || split_.head.size() != firstStage) {
    split_.source = &data;
    for (topiary::Dataset* part : {&split_.head, &split_.tail}) {
      part->name = data.name;
      part->numClasses = data.numClasses;
      part->classNames = data.classNames;
    }
    data.batch(0, firstStage, split_.head.images, &split_.head.labels);
    data.batch(firstStage, data.size() - firstStage, split_.tail.images, &split_.tail.labels);
  }
  return &split_;
}

void PreviewWorker::run(const PreviewRequest& req) {
  // Requests queue up while one runs; only the newest is worth computing
  // (a baseline is always computed: the "before" column needs it).
  if (!req.baseline && (req.generation < latest_->load() || (req.cancel && req.cancel->load()))) {
    emit skipped(req.generation);
    return;
  }
  emit started(req.generation);
  PreviewResult r = compute(req, [this](const PreviewResult& estimate) { emit estimated(estimate); });
  if (req.cancel && req.cancel->load()) {
    emit skipped(req.generation);
    return;
  }
  emit finished(r);
}

PreviewResult PreviewWorker::compute(const PreviewRequest& req,
                                     const std::function<void(const PreviewResult&)>& onEstimate) {
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
  const topiary::Recipe& rc = recipe.value();
  topiary::Graph pruned = graph;
  topiary::MaskSet maskSet;
  if (rc.method == topiary::PruneMethod::Magnitude && rc.schedule.kind != topiary::ScheduleKind::OneShot) {
    // A gradual schedule prunes in steps; each step ranks the weights left
    // by the previous ones, so its final mask can differ from a one-shot
    // mask (a group's score drops when a coupled group is pruned). The
    // preview replays the steps as runRecipe does, without the training
    // between them: it shows what the schedule's last step keeps; training
    // is a job (Jobs > AGP).
    const std::vector<double> targets = topiary::scheduleTargets(rc.schedule, rc.defaults.sparsity, rc.schedule.steps);
    for (double fraction : targets) {
      topiary::PruneConfig step = resolved->config;
      for (auto& kv : step.layers) kv.second.sparsity *= fraction;
      step.globalSparsity *= fraction;
      mo.previous = maskSet.empty() ? nullptr : &maskSet;
      auto m = topiary::computeMasks(pruned, step, mo);
      if (!m) return fail(qs(m.status().message()));
      if (cancel.load()) return fail("cancelled");
      for (auto& kv : m.value()) {  // a weight pruned by an earlier step stays pruned
        auto prev = maskSet.find(kv.first);
        if (prev != maskSet.end())
          for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.f()[i] *= prev->second.f()[i];
      }
      for (auto& kv : maskSet)
        if (!m->count(kv.first)) (*m)[kv.first] = kv.second;
      maskSet = std::move(m.value());
      topiary::Status st = topiary::applyMasks(pruned, maskSet);
      if (!st) return fail(qs(st.message()));
    }
    r.notes << QString("%1 schedule: the masks after its last of %2 steps, without the training between steps "
                       "(run the schedule as a job to fine-tune)")
                   .arg(QString::fromLatin1(topiary::scheduleKindName(rc.schedule.kind)))
                   .arg(targets.size());
  } else {
    auto masks = topiary::computeMasks(graph, resolved->config, mo);
    if (!masks) return fail(qs(masks.status().message()));
    if (cancel.load()) return fail("cancelled");
    maskSet = std::move(masks.value());
    topiary::Status st = topiary::applyMasks(pruned, maskSet);
    if (!st) return fail(qs(st.message()));
    if (rc.method != topiary::PruneMethod::Magnitude)
      r.notes << QString("%1: the preview shows magnitude masks at the target; the method itself trains, run it "
                         "as a job")
                     .arg(QString::fromLatin1(topiary::pruneMethodName(rc.method)));
  }
  r.masks = std::make_shared<const topiary::MaskSet>(std::move(maskSet));
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
  r.flopsKnown = model.metricsValid;
  r.effectiveFlops = r.flops - prunableFlops + keptFlops;

  // What export writes: removed layers and all-zero channels physically gone
  // (filter/channel/neuron granularities), so size and latency are those of
  // the smaller model, not of a model full of zeros.
  topiary::Status st;
  for (const auto& layer : resolved->removeLayers) {
    st = topiary::removeLayer(pruned, layer);
    if (!st) r.notes << qs(st.message());
    else r.structural = true;
  }
  // Physical removal analyses the groups once and rebuilds the graph once
  // (surgery.cpp): about 1 ms on the demo models. A model on which it still
  // took over kSlowCompactionMs keeps the zeros in place in later previews
  // (same accuracy; size and latency then of the masked model, which the
  // note says) to stay interactive.
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

  // Accuracy is nearly all of a preview's time (resnet8: 0.6 s of 0.7 s for
  // 1,000 images on a busy core). A progressive request evaluates the first
  // images, publishes that estimate with the numbers that do not depend on
  // the data (size, FLOPs, latency), then evaluates the rest and publishes
  // the accuracy on all of them; a newer edit cancels the second stage.
  // One evaluator for both stages: its executor packs and times the kernels once.
  // Executors share the worker's kernel choices: after an edit only the
  // layers whose shape or zero pattern changed are timed again.
  topiary::ExecutorOptions eo = latencyOptions(req.threads);
  eo.tuneCache = tuneCache_;
  std::unique_ptr<topiary::Evaluator> eval;
  auto evaluateOn = [&](const topiary::Dataset& images) -> bool {
    QString why;
    if (!eval) {
      auto ev = topiary::Evaluator::create(pruned, eo);
      if (ev) eval = std::move(ev.value());
      else why = qs(ev.status().message());
    }
    if (eval) {
      const topiary::Status st = eval->add(images, 256, &cancel);
      if (st) {
        r.samples = eval->samples();
        r.accuracy = double(eval->correct()) / double(r.samples);
        r.accuracyValid = true;
        return true;
      }
      why = qs(st.message());
    }
    if (!cancel.load()) r.notes << "accuracy unavailable: " + why;
    return false;
  };
  const SplitImages* parts = data ? split(*data, req.firstStageImages) : nullptr;
  if (!data) r.notes << "accuracy unavailable: " + dataWhy;
  else r.totalSamples = data->size();
  if (data && !evaluateOn(parts ? parts->head : *data) && cancel.load()) return fail("cancelled");
  lap(parts ? "accuracy (first stage)" : "accuracy");
  if (req.measureLatency) r.latencyMs = medianLatencyMs(pruned, data, eo, cancel);
  lap("latency");
  if (cancel.load()) return fail("cancelled");
  r.ok = true;
  if (parts && r.accuracyValid) {
    // Standard error of the first images' accuracy as an estimate of the
    // accuracy on all of them (sampling without replacement from the
    // validation set: finite-population corrected).
    const double p = r.accuracy, n = double(r.samples), all = double(data->size());
    r.accuracyStdErr = std::sqrt(p * (1 - p) / n * (all - n) / (all - 1));
    r.estimate = true;
    r.firstStageMs = timer.nsecsElapsed() / 1e6;
    r.elapsedMs = r.firstStageMs;
    if (onEstimate) onEstimate(r);
    if (cancel.load() || (!req.baseline && req.generation < latest_->load())) return fail("cancelled");
    r.estimate = false;
    r.accuracyStdErr = 0;
    phase.restart();
    if (!evaluateOn(parts->tail)) {
      if (cancel.load()) return fail("cancelled");
      r.accuracyValid = false;  // the note says why
    }
    lap("accuracy (refinement)");
  }
  r.elapsedMs = timer.nsecsElapsed() / 1e6;
  return r;
}
