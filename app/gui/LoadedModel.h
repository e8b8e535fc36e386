// A model as loaded from disk, immutable afterwards: the graph (shared with
// worker threads read-only), its measured metrics and the list of layers
// that carry prunable weights. Built by load() on a worker thread.
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <memory>

#include "LayerCapabilities.h"
#include "topiary/dependency.h"
#include "topiary/graph.h"
#include "topiary/metrics.h"
#include "topiary/status.h"

struct LayerInfo {
  QString name;        // node label (unique within the graph)
  QString op;          // ONNX operator type
  QString weight;      // initializer holding the prunable weight
  topiary::Shape weightShape;
  int nodeIndex = -1;
  qint64 params = 0;   // every float initializer the node reads
  double flops = 0;    // dense FLOPs at batch 1
  QString outputShape;
  LayerCapabilities caps;  // what the layer table may offer for this layer
};

class LoadedModel {
 public:
  // Loads, validates, infers shapes and measures. Shape inference or metric
  // failures (an operator the executor lacks) are kept as warnings: the graph
  // can still be viewed.
  static topiary::Result<std::shared_ptr<const LoadedModel>> load(const QString& path);
  // Wraps a graph built in memory (tests, generated models).
  static std::shared_ptr<const LoadedModel> fromGraph(topiary::Graph graph, const QString& path);

  QString path;
  std::shared_ptr<const topiary::Graph> graph;
  topiary::ModelMetrics metrics;
  bool metricsValid = false;
  QVector<LayerInfo> layers;
  // Dependency groups for structured pruning (empty with groupsError set
  // when the analysis fails; element-wise pruning still works then).
  std::vector<topiary::DependencyGroup> groups;
  QString groupsError;
  QStringList warnings;

  // The group whose filters/neurons `layer` produces, or -1.
  int groupOfLayer(const QString& layer) const;

  int layerIndex(const QString& name) const;
  const LayerInfo* layer(const QString& name) const;
};
