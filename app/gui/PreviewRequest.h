// One preview job as handed to the PreviewWorker: a snapshot of the model and
// the plan, a request number and the cancel flag the controller raises when
// a newer request supersedes it.
#pragma once

#include <QMetaType>
#include <atomic>
#include <memory>

#include "LoadedModel.h"
#include "PrunePlan.h"

struct PreviewRequest {
  quint64 generation = 0;
  std::shared_ptr<const LoadedModel> model;
  PrunePlan plan;
  std::shared_ptr<std::atomic<bool>> cancel;
  bool measureLatency = true;
  // The unpruned model's numbers (the "before" column): never skipped or
  // cancelled by newer requests, so every model gets one.
  bool baseline = false;
  int threads = 0;  // executor threads for evaluation and latency (0: every core)
  // Progressive accuracy: first on this many validation images (an estimate,
  // published with size, FLOPs and latency), then on all of them. 0, or a
  // data set smaller than twice this, evaluates in one stage.
  qint64 firstStageImages = 256;
};

Q_DECLARE_METATYPE(PreviewRequest)
