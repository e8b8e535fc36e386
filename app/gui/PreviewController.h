// Owns the preview thread. Every plan change becomes a numbered request:
// the previous one's cancel flag is raised, the new one is queued to the
// worker, and only the newest result reaches the document. The GUI thread
// never waits for the engine.
#pragma once

#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "PreviewRequest.h"
#include "PreviewResult.h"
#include "PrunePlan.h"

class LoadedModel;

class ModelDocument;
class PreviewWorker;

class PreviewController : public QObject {
  Q_OBJECT
 public:
  explicit PreviewController(ModelDocument* doc, QObject* parent = nullptr);
  ~PreviewController() override;

  // Validation data for accuracy (default: 1,000 Fashion-MNIST test images).
  void setData(const QString& spec, qint64 limit);
  void setAutoPreview(bool on) { auto_ = on; }
  // Executor threads for previews (default 1, see the constructor; 0: every core).
  void setThreads(int threads) { threads_ = threads; }
  // Images of the first (estimate) stage; 0: one stage on all images.
  void setFirstStageImages(qint64 n) { firstStage_ = n; }
  bool busy() const { return running_ != 0; }
  quint64 latestGeneration() const { return latest_->load(); }
  double lastLatencyMs() const { return lastMs_; }
  // Why the newest preview failed (empty when it succeeded).
  const QString& lastError() const { return lastError_; }

 public slots:
  // Requests a preview of the document's current plan.
  void request();
  void cancel();

 signals:
  void busyChanged(bool busy);
  // A first-stage estimate of the newest request, after the document took
  // it; the final result (resultReady) or a newer request follows.
  void estimateReady(const PreviewResult& result);
  void resultReady(const PreviewResult& result);  // after the document took it
  // A request was skipped or its computation cancelled (a newer one came).
  void superseded(quint64 generation);
  void failed(const QString& message);
  void submit(const PreviewRequest& req);  // to the worker (queued)

 private:
  void onStarted(quint64 generation);
  void onEstimated(const PreviewResult& r);
  void onFinished(const PreviewResult& r);
  void onSkipped(quint64 generation);

  ModelDocument* doc_;
  QThread thread_;
  PreviewWorker* worker_;
  std::shared_ptr<std::atomic<quint64>> latest_;
  std::shared_ptr<std::atomic<bool>> currentCancel_;
  int running_ = 0;  // requests submitted and not yet answered
  bool auto_ = true;
  double lastMs_ = 0;
  int threads_ = 1;
  qint64 firstStage_ = 256;
  QString lastError_;
  const LoadedModel* baselineFor_ = nullptr;  // model whose baseline was requested
  // The model as opened: the baseline is its unpruned numbers, also once a
  // training job (or a session's fine-tuned weights) replaced its weights.
  const LoadedModel* opened_ = nullptr;
  // What the newest request computes (compared by address, never dereferenced).
  const LoadedModel* pendingModel_ = nullptr;
  PrunePlan pendingPlan_;
};
