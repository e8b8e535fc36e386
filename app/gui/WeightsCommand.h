// Undo command for a job that changed the weights (fine-tune, ADMM, DNS,
// AGP): swaps the whole in-memory model and the tried points measured on it.
// Models are immutable and shared, so both states cost a pointer each.
#pragma once

#include <QUndoCommand>
#include <QVector>
#include <memory>

#include "LoadedModel.h"
#include "PreviewResult.h"

class ModelDocument;

struct WeightsState {
  std::shared_ptr<const LoadedModel> model;
  QVector<TriedPoint> tried;
  bool modified = false;  // differs from the file on disk
};

class WeightsCommand : public QUndoCommand {
 public:
  WeightsCommand(ModelDocument* doc, WeightsState before, WeightsState after, const QString& text);
  void undo() override;
  void redo() override;

 private:
  ModelDocument* doc_;
  WeightsState before_, after_;
};
