// Long jobs: buttons to fine-tune the current (masked) model, to run the
// plan with a training method (ADMM, DNS, an AGP schedule), or to benchmark
// it; a progress bar with ETA, Cancel, and live loss/accuracy curves. Owns
// the job thread; the worker reports through queued signals. A finished
// training job replaces the in-memory weights as one undo step; a cancelled
// or failed one leaves them untouched.
#pragma once

#include <QThread>
#include <QJsonObject>
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
  // Runs the document's plan as a recipe with `method` ("admm", "dns") or,
  // for "agp", the magnitude method on an AGP schedule, fine-tuning
  // `epochs` per step on `trainLimit` training images.
  void startPruneJob(const QString& method, int epochs, qint64 trainLimit = 6000, int maxBatches = 0);
  // The recipe JSON such a job runs (shown to the user, tested).
  QJsonObject pruneJobRecipe(const QString& method, int epochs, int maxBatches = 0) const;
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
  QString what_;  // the running job's name (undo text)
  // Another model was opened while the job ran: its outcome belongs to the
  // previous model and is shown, never applied.
  bool modelSwitched_ = false;
  JobOutcome last_;
  QProgressBar* bar_;
  QLabel* status_;
  QPushButton* fineTune_;
  QPushButton* bench_;
  QPushButton* admm_;
  QPushButton* dns_;
  QPushButton* agp_;
  QPushButton* cancelButton_;
  QSpinBox* epochs_;
  QLineSeries* loss_;
  QLineSeries* acc_;
  QLineSeries* valAcc_;
  QValueAxis* ax_;
  QValueAxis* ayLoss_;
  QValueAxis* ayAcc_;
  QChartView* chart_;
};
