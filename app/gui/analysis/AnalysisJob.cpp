#include "AnalysisJob.h"

#include <QtConcurrent>

AnalysisJob::AnalysisJob(QObject* parent) : QObject(parent), cancel_(std::make_shared<std::atomic<bool>>(false)) {
  clock_.start();
  connect(&watcher_, &QFutureWatcher<QString>::finished, this, [this] {
    busy_ = false;
    const QString error = watcher_.result();
    emit finished(error.isEmpty(), cancel_->load() && !error.isEmpty() ? tr("cancelled") : error);
  });
}

AnalysisJob::~AnalysisJob() {
  cancel_->store(true);
  watcher_.waitForFinished();
}

bool AnalysisJob::start(Work work) {
  if (busy_) return false;
  busy_ = true;
  cancel_->store(false);
  lastReport_ = -1000;
  watcher_.setFuture(QtConcurrent::run([this, work = std::move(work)]() -> QString {
    try {
      return work(*this);
    } catch (const std::exception& e) {
      return tr("internal failure: %1").arg(e.what());
    }
  }));
  return true;
}

void AnalysisJob::cancel() { cancel_->store(true); }

void AnalysisJob::report(double fraction, const QString& text) {
  const qint64 now = clock_.elapsed();
  qint64 last = lastReport_.load();
  if (fraction < 1.0 && now - last < 50) return;
  if (!lastReport_.compare_exchange_strong(last, now)) return;
  QMetaObject::invokeMethod(
      this, [this, fraction, text] { emit progress(fraction, text); }, Qt::QueuedConnection);
}
