// The validation images a preview evaluates on, loaded once per spec and
// adapted to the model's input (a [N,784] MLP gets the images flattened).
// Used only on worker threads.
#pragma once

#include <QString>
#include <memory>

#include "topiary/dataset.h"
#include "topiary/graph.h"

class ValidationData {
 public:
  ValidationData(QString spec, qint64 limit) : spec_(std::move(spec)), limit_(limit) {}

  // The data set shaped for `graph`'s input, or null with `why` set when the
  // spec cannot be loaded or does not fit the model.
  const topiary::Dataset* forGraph(const topiary::Graph& graph, QString* why);
  const QString& spec() const { return spec_; }
  qint64 limit() const { return limit_; }

 private:
  QString spec_;
  qint64 limit_;
  bool tried_ = false;
  QString loadError_;
  std::unique_ptr<topiary::Dataset> images_;  // as loaded, [N,C,H,W]
  std::unique_ptr<topiary::Dataset> flat_;    // [N, C*H*W], made on demand
};
