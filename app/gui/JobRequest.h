// A long job (fine-tune, a pruning recipe with training such as ADMM, DNS or
// AGP, or a benchmark) as handed to the JobWorker, and the
// progress it reports back. Plain values passed through queued signals.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <atomic>
#include <memory>

#include "LoadedModel.h"
#include "topiary/train.h"

struct JobRequest {
  enum class Kind { FineTune, PruneRecipe, Benchmark };
  Kind kind = Kind::FineTune;
  std::shared_ptr<const LoadedModel> model;
  std::shared_ptr<const topiary::MaskSet> masks;  // pruned weights stay zero while training
  QString trainSpec = "fashion-mnist:train";
  qint64 trainLimit = 6000;
  QString validationSpec = "fashion-mnist";
  qint64 validationLimit = 1000;
  topiary::TrainOptions train;
  int benchmarkRuns = 200;
  // PruneRecipe: the recipe JSON (the plan's, with a finetune section) run
  // through topiary::runRecipe exactly as `topiary-cli prune` would.
  QByteArray recipeJson;
  std::shared_ptr<std::atomic<bool>> cancel;
};

struct JobProgress {
  double fraction = 0;        // 0..1 of the whole job
  double etaSeconds = -1;
  QString text;               // "epoch 1/2, batch 30/94"
  bool hasPoint = false;      // a new point for the curves
  double step = 0;            // x of the curves (epochs, fractional)
  double loss = 0;
  double accuracy = -1;       // training accuracy (running)
  double validationAccuracy = -1;
};

struct JobOutcome {
  bool ok = false;
  bool cancelled = false;
  QString message;
  // Fine-tune / prune recipe: the model with trained (and pruned) weights in
  // the original shapes (null on failure or cancel).
  std::shared_ptr<const LoadedModel> model;
  double medianMs = -1, minMs = -1, maxMs = -1;  // benchmark
  QStringList log;                                // prune recipe: the engine's notes per step
};

Q_DECLARE_METATYPE(JobRequest)
Q_DECLARE_METATYPE(JobProgress)
Q_DECLARE_METATYPE(JobOutcome)
