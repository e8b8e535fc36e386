// Computes a preview on its own thread: masks from the plan (through the
// recipe, exactly as topiary-cli prune would), the masked model's accuracy on
// the validation images, its size under the chosen storage format, FLOPs and
// measured single-image latency. Requests arrive by queued signal; a request
// older than the newest one is skipped, and a running one stops at its next
// check of the cancel flag.
#pragma once

#include <QObject>
#include <atomic>
#include <functional>
#include <memory>

#include "PreviewRequest.h"
#include "PreviewResult.h"
#include "topiary/dataset.h"
#include "topiary/executor.h"

class ValidationData;

class PreviewWorker : public QObject {
  Q_OBJECT
 public:
  // Accuracy is measured on the first 1,000 test images: a standard error of
  // about 1 point at 90% accuracy, enough to rank configurations, and half
  // the time of 2,000 (evaluation is most of a preview's time).
  static constexpr qint64 kDefaultValidationImages = 1000;
  explicit PreviewWorker(std::shared_ptr<std::atomic<quint64>> latest, QObject* parent = nullptr);
  ~PreviewWorker() override;

  void setData(const QString& spec, qint64 limit);

  // How the latency is measured: the executor set-up of `topiary-cli bench`
  // (the inference optimiser on: BatchNorm folded, activations fused, sparse
  // kernels where they pay), so the preview's number is the CLI's.
  static topiary::ExecutorOptions latencyOptions(int threads);

  // Does the whole preview synchronously on the calling thread. With a
  // progressive request (req.firstStageImages) `onEstimate` gets the
  // first-stage result (estimate == true) before the final one is computed;
  // the final's accuracy counts the first stage's images again, not anew.
  PreviewResult compute(const PreviewRequest& req,
                        const std::function<void(const PreviewResult&)>& onEstimate = {});
  // Kernel choices (timed per Conv/Gemm) kept across this worker's previews.
  const topiary::KernelTuneCache& tuneCache() const { return *tuneCache_; }

 public slots:
  void run(const PreviewRequest& req);

 signals:
  void started(quint64 generation);
  void estimated(const PreviewResult& result);  // first stage; finished or skipped follows
  void finished(const PreviewResult& result);
  void skipped(quint64 generation);

 private:
  std::shared_ptr<std::atomic<quint64>> latest_;
  std::shared_ptr<topiary::KernelTuneCache> tuneCache_ = std::make_shared<topiary::KernelTuneCache>();
  std::unique_ptr<ValidationData> data_;
  // The validation images cut in two for a progressive preview: the first
  // `head.size()` and the rest (copied once per data set and cut).
  struct SplitImages {
    const topiary::Dataset* source = nullptr;
    topiary::Dataset head, tail;
  };
  const SplitImages* split(const topiary::Dataset& data, qint64 firstStage);
  SplitImages split_;
  // The model whose physical channel removal took longer than
  // kSlowCompactionMs (compared by address; the worker holds no reference).
  static constexpr double kSlowCompactionMs = 300;
  const void* slowCompaction_ = nullptr;
  double slowCompactionMs_ = 0;
};
