#include "JobWorker.h"

#include <QElapsedTimer>
#include <algorithm>
#include <chrono>

#include "topiary/dataset.h"
#include "topiary/executor.h"

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

void JobWorker::run(const JobRequest& req) {
  JobOutcome out = req.kind == JobRequest::Kind::FineTune ? fineTune(req) : benchmark(req);
  emit finished(out);
}

JobOutcome JobWorker::fineTune(const JobRequest& req) {
  JobOutcome out;
  JobProgress p;
  p.text = tr("loading %1").arg(req.trainSpec);
  emit progress(p);
  topiary::DatasetOptions dopt;
  dopt.limit = req.trainLimit;
  auto train = topiary::loadDataset(req.trainSpec.toStdString(), dopt);
  if (!train) {
    out.message = qs(train.status().message());
    return out;
  }
  dopt.limit = req.validationLimit;
  auto val = topiary::loadDataset(req.validationSpec.toStdString(), dopt);
  topiary::Graph g = *req.model->graph;
  if (req.masks) {
    topiary::Status st = topiary::applyMasks(g, *req.masks);
    if (!st) {
      out.message = qs(st.message());
      return out;
    }
  }
  QElapsedTimer timer, lastEmit;
  timer.start();
  lastEmit.start();
  auto onProgress = [&](const topiary::TrainProgress& tp) {
    const double perEpoch = tp.batches > 0 ? double(tp.batch) / double(tp.batches) : 0;
    const double fraction = tp.epochs > 0 ? (tp.epoch - 1 + perEpoch) / tp.epochs : 0;
    if (!tp.epochDone && lastEmit.elapsed() < 50) return !req.cancel->load();
    lastEmit.restart();
    JobProgress jp;
    jp.fraction = fraction;
    const double elapsed = timer.elapsed() / 1000.0;
    jp.etaSeconds = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : -1;
    jp.text = tr("epoch %1/%2, batch %3/%4, loss %5, %6 img/s")
                  .arg(tp.epoch)
                  .arg(tp.epochs)
                  .arg(tp.batch)
                  .arg(tp.batches)
                  .arg(tp.loss, 0, 'f', 4)
                  .arg(tp.imagesPerSecond, 0, 'f', 0);
    jp.hasPoint = true;
    jp.step = tp.epoch - 1 + perEpoch;
    jp.loss = tp.loss;
    jp.accuracy = tp.accuracy;
    jp.validationAccuracy = tp.validationAccuracy;
    emit progress(jp);
    return !req.cancel->load();
  };
  topiary::Status st = topiary::train(g, train.value(), req.train, req.masks.get(), {}, onProgress, req.cancel.get(),
                                      val ? &val.value() : nullptr);
  if (!st) {
    out.cancelled = st.kind() == topiary::ErrorKind::Cancelled;
    out.message = out.cancelled ? tr("cancelled; weights unchanged") : qs(st.message());
    return out;
  }
  out.model = LoadedModel::fromGraph(std::move(g), req.model->path);
  out.ok = true;
  out.message = tr("fine-tuned %1 epoch(s) in %2 s").arg(req.train.epochs).arg(timer.elapsed() / 1000.0, 0, 'f', 1);
  return out;
}

JobOutcome JobWorker::benchmark(const JobRequest& req) {
  JobOutcome out;
  topiary::Graph g = *req.model->graph;
  if (req.masks) {
    topiary::Status st = topiary::applyMasks(g, *req.masks);
    if (!st) {
      out.message = qs(st.message());
      return out;
    }
  }
  auto ex = topiary::Executor::create(g);
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
    topiary::Status st = (*ex)->run(input.value());
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
