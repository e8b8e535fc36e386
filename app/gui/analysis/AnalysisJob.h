// One background computation for an analysis view: the work runs on Qt's
// thread pool, progress and the result arrive on the GUI thread as signals,
// cancel is an atomic flag the engine checks. The GUI thread never waits for
// the engine (except in the destructor, after raising the cancel flag).
#pragma once

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <memory>

class AnalysisJob : public QObject {
  Q_OBJECT
 public:
  // Runs on a worker thread; returns an error message, empty on success.
  using Work = std::function<QString(AnalysisJob& job)>;

  explicit AnalysisJob(QObject* parent = nullptr);
  ~AnalysisJob() override;

  // Starts `work`; returns false (and does nothing) while a job is running.
  bool start(Work work);
  void cancel();
  bool busy() const { return busy_; }
  const std::atomic<bool>* cancelFlag() const { return cancel_.get(); }
  bool cancelled() const { return cancel_->load(); }

  // Thread-safe; at most ~20 progress signals per second reach the GUI.
  void report(double fraction, const QString& text);

 signals:
  void progress(double fraction, const QString& text);
  void finished(bool ok, const QString& error);

 private:
  QFutureWatcher<QString> watcher_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::atomic<qint64> lastReport_{-1000};
  QElapsedTimer clock_;
  bool busy_ = false;
};
