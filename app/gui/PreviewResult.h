// What one preview run measured for one configuration. Produced by the
// PreviewWorker on its thread, handed to the GUI by a queued signal (the
// masks are shared read-only, never copied per widget).
#pragma once

#include <QMap>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <memory>

#include "PrunePlan.h"
#include "topiary/train.h"

struct PreviewResult {
  quint64 generation = 0;      // request number; older results are dropped
  bool baseline = false;       // answers a baseline request
  PrunePlan plan;
  bool ok = false;
  QString error;               // why it failed (ok == false)
  QStringList notes;           // adaptations and partial failures worth showing
  bool accuracyValid = false;  // false when no data set fits the model
  double accuracy = 0;         // 0..1 on the validation images
  qint64 samples = 0;
  // A first-stage result: accuracy on the first `samples` of `totalSamples`
  // images, to be replaced by the evaluation on all of them (same masks,
  // size, FLOPs and latency). accuracyStdErr: the standard error of the
  // estimate against the full evaluation (0 for a final result).
  bool estimate = false;
  qint64 totalSamples = 0;
  double accuracyStdErr = 0;
  double firstStageMs = 0;     // wall time until the estimate was ready (0: one stage)
  qint64 params = 0;
  qint64 nonzeroParams = 0;
  double flops = 0;            // dense FLOPs, batch 1
  bool flopsKnown = false;     // false when the model could not be measured (an operator the engine lacks)
  double effectiveFlops = 0;   // FLOPs scaled by each layer's density
  qint64 denseBytes = 0;       // serialized ONNX size with zeros stored
  qint64 storageBytes = 0;     // size under the chosen storage format (+ quantization)
  QString storageName;
  double latencyMs = -1;       // median single-image latency
  double elapsedMs = 0;        // wall time of the whole preview
  // Where the time went: masks, compact, size, accuracy, latency (ms).
  QMap<QString, double> phaseMs;
  bool structural = false;     // size and latency are of the physically smaller model
  qint64 channelsRemoved = 0;
  QMap<QString, double> layerSparsity;   // achieved fraction of zero weights per layer
  QMap<QString, qint64> layerNonzeros;
  std::shared_ptr<const topiary::MaskSet> masks;  // initializer -> mask
};

// One configuration the user tried: a point in the accuracy/size/latency plots.
struct TriedPoint {
  PrunePlan plan;
  double accuracy = 0;
  qint64 storageBytes = 0;
  double latencyMs = 0;
};

Q_DECLARE_METATYPE(PreviewResult)
