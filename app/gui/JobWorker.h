// Runs long jobs on its own thread: fine-tuning the masked model with the
// engine's trainer, running a pruning recipe that trains (ADMM, DNS, AGP or
// iterative schedules), or benchmarking latency. Progress goes out as queued
// signals (at most ~20 per second); cancel is the request's atomic flag,
// which the trainer checks between batches, so a cancel lands well within a
// second and leaves the weights as they were.
#pragma once

#include <QObject>

#include "JobRequest.h"
#include "topiary/dataset.h"

class JobWorker : public QObject {
  Q_OBJECT
 public:
  using QObject::QObject;

 public slots:
  void run(const JobRequest& req);

 signals:
  void progress(const JobProgress& p);
  void finished(const JobOutcome& outcome);

 private:
  JobOutcome fineTune(const JobRequest& req);
  JobOutcome pruneRecipe(const JobRequest& req);
  JobOutcome benchmark(const JobRequest& req);
  // Set-up shared by the jobs: the training set (announced as a progress
  // step), and the model with the request's masks applied.
  topiary::Result<topiary::Dataset> loadTrainData(const JobRequest& req);
  static topiary::Status maskedGraph(const JobRequest& req, topiary::Graph& out);
};
