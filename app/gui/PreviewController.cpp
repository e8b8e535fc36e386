#include "PreviewController.h"

#include "ModelDocument.h"
#include "PreviewWorker.h"

PreviewController::PreviewController(ModelDocument* doc, QObject* parent)
    : QObject(parent), doc_(doc), latest_(std::make_shared<std::atomic<quint64>>(0)) {
  qRegisterMetaType<PreviewRequest>();
  qRegisterMetaType<PreviewResult>();
  worker_ = new PreviewWorker(latest_);
  worker_->moveToThread(&thread_);
  thread_.setObjectName("preview");
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &PreviewController::submit, worker_, &PreviewWorker::run, Qt::QueuedConnection);
  connect(worker_, &PreviewWorker::started, this, &PreviewController::onStarted, Qt::QueuedConnection);
  connect(worker_, &PreviewWorker::estimated, this, &PreviewController::onEstimated, Qt::QueuedConnection);
  connect(worker_, &PreviewWorker::finished, this, &PreviewController::onFinished, Qt::QueuedConnection);
  connect(worker_, &PreviewWorker::skipped, this, &PreviewController::onSkipped, Qt::QueuedConnection);
  thread_.start();
  // One thread by default: on the demo models a single-threaded evaluation
  // of 1,000 images took 63-108 ms on 2 busy cores against 103-150 ms with
  // both cores (threads wait on each other when the machine is loaded), and
  // it leaves a core to the GUI. TOPIARY_PREVIEW_THREADS=0 uses every core.
  if (qEnvironmentVariableIsSet("TOPIARY_PREVIEW_THREADS"))
    threads_ = qEnvironmentVariableIntValue("TOPIARY_PREVIEW_THREADS");
  connect(doc_, &ModelDocument::planChanged, this, [this] {
    if (auto_) request();
  });
  connect(doc_, &ModelDocument::weightsChanged, this, &PreviewController::request);
  connect(doc_, &ModelDocument::modelChanged, this, [this] {
    opened_ = doc_->model().get();
    if (auto_ && doc_->hasModel()) request();
  });
}

PreviewController::~PreviewController() {
  cancel();
  thread_.quit();
  thread_.wait();
}

void PreviewController::setData(const QString& spec, qint64 limit) {
  // Runs on the worker's thread, after whatever it is doing now.
  QMetaObject::invokeMethod(worker_, [w = worker_, spec, limit] { w->setData(spec, limit); }, Qt::QueuedConnection);
}

void PreviewController::request() {
  if (!doc_->hasModel()) return;
  // Opening a model changes the model and the plan at once: the request for
  // them is already on its way (computing it twice delayed the first numbers
  // of a model by a whole preview).
  if (running_ > 0 && pendingModel_ == doc_->model().get() && pendingPlan_ == doc_->plan() &&
      !(currentCancel_ && currentCancel_->load()))
    return;
  cancel();
  PreviewRequest req;
  req.generation = latest_->load() + 1;
  latest_->store(req.generation);
  req.model = doc_->model();
  req.plan = doc_->plan();
  req.threads = threads_;
  req.firstStageImages = firstStage_;
  // The first request for a model measures the unpruned baseline too (the
  // plan of a freshly opened model is empty); it must not be cancelled, or
  // quick edits right after opening would leave the "before" column empty.
  if (baselineFor_ != opened_ && !doc_->hasBaseline()) {
    baselineFor_ = opened_;
    PreviewRequest base = req;
    base.plan = PrunePlan();
    base.baseline = true;
    if (req.plan == PrunePlan()) {
      req = base;
    } else {
      base.generation = 0;  // never taken for the current plan's preview
      if (running_++ == 0) emit busyChanged(true);
      emit submit(base);
    }
  }
  if (!req.baseline) {
    req.cancel = std::make_shared<std::atomic<bool>>(false);
    currentCancel_ = req.cancel;
  } else {
    currentCancel_.reset();  // a baseline is never cancelled
  }
  pendingModel_ = req.model.get();
  pendingPlan_ = req.plan;
  if (running_++ == 0) emit busyChanged(true);
  emit submit(req);
}

void PreviewController::cancel() {
  if (currentCancel_) currentCancel_->store(true);
}

void PreviewController::onStarted(quint64) {}

void PreviewController::onSkipped(quint64 generation) {
  if (--running_ == 0) emit busyChanged(false);
  emit superseded(generation);
}

void PreviewController::onEstimated(const PreviewResult& r) {
  // Still busy: the refinement runs. An estimate of an older request is
  // dropped like its final result would be.
  if (r.baseline && r.ok && doc_->model() && baselineFor_ == opened_ && !doc_->hasBaseline()) doc_->setBaseline(r);
  if (r.generation != latest_->load() || !r.ok) return;
  doc_->setPreview(r);
  emit estimateReady(r);
}

void PreviewController::onFinished(const PreviewResult& r) {
  if (--running_ == 0) emit busyChanged(false);
  if (r.baseline && r.ok && doc_->model() && baselineFor_ == opened_) doc_->setBaseline(r);
  if (r.generation != latest_->load()) return;  // a newer request is on its way
  lastMs_ = r.elapsedMs;
  lastError_ = r.ok ? QString() : r.error;
  if (!r.ok) {
    emit failed(r.error);
    return;
  }
  doc_->setPreview(r);
  emit resultReady(r);
}
