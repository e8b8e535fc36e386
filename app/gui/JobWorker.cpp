#include "JobWorker.h"

#include <QElapsedTimer>
#include <algorithm>
#include <chrono>

#include "topiary/dataset.h"
#include "topiary/executor.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

// Turns the trainer's per-batch callbacks into JobProgress at most every
// 50 ms (and at each epoch's end), with the ETA from the fraction done, and
// answers the trainer's "go on?" from the cancel flag. Shared by the
// fine-tune and the recipe jobs.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(const std::atomic<bool>& cancel) : cancel_(cancel) {
    timer_.start();
    lastEmit_.start();
  }
  bool cancelled() const { return cancel_.load(); }
  // False when this update is dropped (too soon after the last one).
  bool due(bool force) {
    if (!force && lastEmit_.elapsed() < 50) return false;
    lastEmit_.restart();
    return true;
  }
  JobProgress make(double fraction, const topiary::TrainProgress& tp, double step) const {
    JobProgress jp;
    jp.fraction = std::min(1.0, fraction);
    const double elapsed = timer_.elapsed() / 1000.0;
    jp.etaSeconds = jp.fraction > 0.01 ? elapsed * (1 - jp.fraction) / jp.fraction : -1;
    jp.step = step;
    jp.loss = tp.loss;
    jp.accuracy = tp.accuracy;
    jp.validationAccuracy = tp.validationAccuracy;
    return jp;
  }
  double seconds() const { return timer_.elapsed() / 1000.0; }

 private:
  const std::atomic<bool>& cancel_;
  QElapsedTimer timer_, lastEmit_;
};

}  // namespace

topiary::Result<topiary::Dataset> JobWorker::loadTrainData(const JobRequest& req) {
  JobProgress p;
  p.text = tr("loading %1").arg(req.trainSpec);
  emit progress(p);
  topiary::DatasetOptions dopt;
  dopt.limit = req.trainLimit;
  return topiary::loadDataset(req.trainSpec.toStdString(), dopt);
}

topiary::Status JobWorker::maskedGraph(const JobRequest& req, topiary::Graph& out) {
  out = *req.model->graph;
  return req.masks ? topiary::applyMasks(out, *req.masks) : topiary::Status::ok();
}

void JobWorker::run(const JobRequest& req) {
  JobOutcome out;
  switch (req.kind) {
    case JobRequest::Kind::FineTune: out = fineTune(req); break;
    case JobRequest::Kind::PruneRecipe: out = pruneRecipe(req); break;
    case JobRequest::Kind::Benchmark: out = benchmark(req); break;
  }
  emit finished(out);
}

JobOutcome JobWorker::pruneRecipe(const JobRequest& req) {
  JobOutcome out;
  auto recipe = topiary::parseRecipe(req.recipeJson.toStdString());
  if (!recipe) {
    out.message = qs(recipe.status().message());
    return out;
  }
  auto train = loadTrainData(req);
  if (!train) {
    out.message = qs(train.status().message());
    return out;
  }
  // Epochs the whole run trains, for the progress bar and the curves' x axis.
  const topiary::Recipe& rc = recipe.value();
  double totalEpochs = rc.finetune.epochs;
  if (rc.method == topiary::PruneMethod::Admm) totalEpochs += double(rc.admm.iterations) * rc.admm.epochs;
  else if (rc.method == topiary::PruneMethod::Magnitude && rc.schedule.kind != topiary::ScheduleKind::OneShot)
    totalEpochs = double(rc.schedule.steps) * rc.finetune.epochs;
  totalEpochs = std::max(totalEpochs, 1.0);

  ProgressThrottle throttle(*req.cancel);
  std::string lastStage;
  double doneEpochs = 0, stageEpochs = 0;  // epochs of finished training stages, of the current one
  topiary::PruneRunOptions o;
  o.trainData = &train.value();
  o.cancel = req.cancel.get();
  o.progress = [&](const topiary::PruneProgress& pp) {
    if (pp.training && pp.stage != lastStage) {
      doneEpochs += stageEpochs;
      lastStage = pp.stage;
    }
    const topiary::TrainProgress& tp = pp.training ? pp.train : topiary::TrainProgress();
    if (pp.training) stageEpochs = tp.epochs;
    const double within = tp.batches > 0 ? double(tp.batch) / double(tp.batches) : 0;
    const double x = doneEpochs + (pp.training ? tp.epoch - 1 + within : 0);
    if (!throttle.due(!pp.training || tp.epochDone)) return !throttle.cancelled();
    JobProgress jp = throttle.make(x / totalEpochs, tp, x);
    jp.text = pp.training ? tr("%1: epoch %2/%3, batch %4/%5, loss %6")
                                .arg(qs(pp.stage))
                                .arg(tp.epoch)
                                .arg(tp.epochs)
                                .arg(tp.batch)
                                .arg(tp.batches)
                                .arg(tp.loss, 0, 'f', 4)
                          : qs(pp.stage);
    jp.hasPoint = pp.training && tp.batch > 0;
    emit progress(jp);
    return !throttle.cancelled();
  };
  auto run = topiary::runRecipe(*req.model->graph, rc, o);
  if (!run) {
    out.cancelled = run.status().kind() == topiary::ErrorKind::Cancelled || req.cancel->load();
    out.message = out.cancelled ? tr("cancelled; weights unchanged") : qs(run.status().message());
    return out;
  }
  for (const auto& l : run->log) out.log << qs(l);
  // The weights in the original shapes: the plan keeps addressing the same
  // layers, and the preview/export prune them physically as before.
  out.model = LoadedModel::fromGraph(std::move(run->masked), req.model->path);
  out.ok = true;
  out.message = tr("%1 finished in %2 s").arg(QString::fromLatin1(topiary::pruneMethodName(rc.method))).arg(throttle.seconds(), 0, 'f', 1);
  if (!out.log.isEmpty()) out.message += "; " + out.log.back();
  return out;
}

JobOutcome JobWorker::fineTune(const JobRequest& req) {
  JobOutcome out;
  auto train = loadTrainData(req);
  if (!train) {
    out.message = qs(train.status().message());
    return out;
  }
  topiary::DatasetOptions dopt;
  dopt.limit = req.validationLimit;
  auto val = topiary::loadDataset(req.validationSpec.toStdString(), dopt);
  topiary::Graph g;
  topiary::Status st = maskedGraph(req, g);
  if (!st) {
    out.message = qs(st.message());
    return out;
  }
  ProgressThrottle throttle(*req.cancel);
  auto onProgress = [&](const topiary::TrainProgress& tp) {
    const double perEpoch = tp.batches > 0 ? double(tp.batch) / double(tp.batches) : 0;
    const double fraction = tp.epochs > 0 ? (tp.epoch - 1 + perEpoch) / tp.epochs : 0;
    if (!throttle.due(tp.epochDone)) return !throttle.cancelled();
    JobProgress jp = throttle.make(fraction, tp, tp.epoch - 1 + perEpoch);
    jp.text = tr("epoch %1/%2, batch %3/%4, loss %5, %6 img/s")
                  .arg(tp.epoch)
                  .arg(tp.epochs)
                  .arg(tp.batch)
                  .arg(tp.batches)
                  .arg(tp.loss, 0, 'f', 4)
                  .arg(tp.imagesPerSecond, 0, 'f', 0);
    jp.hasPoint = true;
    emit progress(jp);
    return !throttle.cancelled();
  };
  st = topiary::train(g, train.value(), req.train, req.masks.get(), {}, onProgress, req.cancel.get(),
                      val ? &val.value() : nullptr);
  if (!st) {
    out.cancelled = st.kind() == topiary::ErrorKind::Cancelled;
    out.message = out.cancelled ? tr("cancelled; weights unchanged") : qs(st.message());
    return out;
  }
  out.model = LoadedModel::fromGraph(std::move(g), req.model->path);
  out.ok = true;
  out.message = tr("fine-tuned %1 epoch(s) in %2 s").arg(req.train.epochs).arg(throttle.seconds(), 0, 'f', 1);
  return out;
}

JobOutcome JobWorker::benchmark(const JobRequest& req) {
  JobOutcome out;
  topiary::Graph g;
  topiary::Status st = maskedGraph(req, g);
  if (!st) {
    out.message = qs(st.message());
    return out;
  }
  // The same executor set-up as `topiary-cli bench` (and the preview's latency).
  topiary::ExecutorOptions eo;
  eo.optimizeForInference = true;
  auto ex = topiary::Executor::create(g, eo);
  if (!ex || g.inputs.empty()) {
    out.message = ex ? tr("the model has no input") : qs(ex.status().message());
    return out;
  }
  auto input = topiary::makeInputLike(g.inputs[0], 1);
  if (!input) {
    out.message = qs(input.status().message());
    return out;
  }
  using Clock = std::chrono::steady_clock;
  std::vector<double> ms;
  QElapsedTimer timer, lastEmit;
  timer.start();
  lastEmit.start();
  for (int i = 0; i < req.benchmarkRuns + 5; ++i) {
    if (req.cancel->load()) {
      out.cancelled = true;
      out.message = tr("benchmark cancelled");
      return out;
    }
    auto t0 = Clock::now();
    st = (*ex)->run(input.value());
    if (!st) {
      out.message = qs(st.message());
      return out;
    }
    if (i >= 5) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (lastEmit.elapsed() > 50) {
      lastEmit.restart();
      JobProgress p;
      p.fraction = double(i + 1) / (req.benchmarkRuns + 5);
      p.etaSeconds = timer.elapsed() / 1000.0 * (1 - p.fraction) / std::max(1e-9, p.fraction);
      p.text = tr("run %1/%2").arg(i + 1).arg(req.benchmarkRuns + 5);
      emit progress(p);
    }
  }
  std::sort(ms.begin(), ms.end());
  out.ok = !ms.empty();
  if (out.ok) {
    out.medianMs = ms[ms.size() / 2];
    out.minMs = ms.front();
    out.maxMs = ms.back();
    out.message = tr("latency over %1 runs: median %2 ms, min %3 ms, max %4 ms")
                      .arg(ms.size())
                      .arg(out.medianMs, 0, 'f', 3)
                      .arg(out.minMs, 0, 'f', 3)
                      .arg(out.maxMs, 0, 'f', 3);
  }
  return out;
}
