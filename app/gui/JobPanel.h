// Long jobs: buttons to start a fine-tune or a benchmark of the current
// (masked) model, a progress bar with ETA, Cancel, and live loss/accuracy
// curves. Owns the job thread; the worker reports through queued signals.
#pragma once

#include <QThread>
#include <QWidget>
#include <atomic>
#include <memory>

#include "JobRequest.h"

class ModelDocument;
class JobWorker;
class QProgressBar;
class QLabel;
class QPushButton;
class QSpinBox;
class QLineSeries;
class QValueAxis;
class QChartView;

class JobPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobPanel(ModelDocument* doc, QWidget* parent = nullptr);
  ~JobPanel() override;

  bool running() const { return running_; }
  // Starts a job on the document's current model and preview masks.
  void startFineTune(const topiary::TrainOptions& options, qint64 trainLimit = 6000);
  void startBenchmark(int runs = 200);
  void cancel();
  QProgressBar* progressBar() const { return bar_; }
  const JobOutcome& lastOutcome() const { return last_; }
  int curvePoints() const;

 signals:
  void jobStarted(const QString& what);
  void jobFinished(const JobOutcome& outcome);
  void submit(const JobRequest& req);

 private:
  void start(JobRequest req, const QString& what);
  void onProgress(const JobProgress& p);
  void onFinished(const JobOutcome& o);

  ModelDocument* doc_;
  QThread thread_;
  JobWorker* worker_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool running_ = false;
  JobOutcome last_;
  QProgressBar* bar_;
  QLabel* status_;
  QPushButton* fineTune_;
  QPushButton* bench_;
  QPushButton* cancelButton_;
  QSpinBox* epochs_;
  QLineSeries* loss_;
  QLineSeries* acc_;
  QLineSeries* valAcc_;
  QValueAxis* ax_;
  QValueAxis* ayLoss_;
  QChartView* chart_;
};
