// The open document: the loaded model, the pruning configuration the user is
// editing (through undo commands only), the latest preview and the list of
// configurations tried so far. Lives on the GUI thread; workers get copies.
#pragma once

#include <QObject>
#include <QUndoStack>
#include <QVector>
#include <memory>

#include "LoadedModel.h"
#include "PreviewResult.h"
#include "PrunePlan.h"

struct WeightsState;

class ModelDocument : public QObject {
  Q_OBJECT
 public:
  explicit ModelDocument(QObject* parent = nullptr);

  void setModel(std::shared_ptr<const LoadedModel> model);
  const std::shared_ptr<const LoadedModel>& model() const { return model_; }
  bool hasModel() const { return model_ != nullptr; }
  // Same graph structure, new weights (after a training job): one undo step;
  // keeps the plan, clears the tried points (undo restores them); the
  // preview is recomputed.
  void replaceWeights(std::shared_ptr<const LoadedModel> model, const QString& what);
  // Applied by WeightsCommand.
  void applyWeights(const WeightsState& state);
  bool weightsModified() const { return weightsModified_; }

  const PrunePlan& plan() const { return plan_; }
  QUndoStack* undoStack() { return &undo_; }

  // User edits: each pushes one undo command.
  void editLayerPlan(const QString& layer, const LayerPlan& plan, const QString& what);
  void editGlobal(const GlobalPlan& plan, const QString& what);
  void editAllSparsity(double sparsity);
  void restorePlan(const PrunePlan& plan, const QString& what);
  // Ends the current gesture (an editor closed, a slider released, a choice
  // made): consecutive edits of one control merge into one undo step only
  // within a gesture, so two separate edits of a cell are two steps.
  void endEditGesture() { ++gesture_; }

  // Applied by the undo commands (and when a session is loaded).
  void applyPlan(const PrunePlan& plan);

  // Preview results and the tried configurations.
  void setPreview(const PreviewResult& r);
  const PreviewResult& preview() const { return preview_; }
  bool hasPreview() const { return preview_.ok; }
  const PreviewResult& baseline() const { return baseline_; }
  bool hasBaseline() const { return baseline_.ok; }
  void setBaseline(const PreviewResult& r);
  const QVector<TriedPoint>& tried() const { return tried_; }
  void setTried(const QVector<TriedPoint>& t);

 signals:
  void modelChanged();
  void planChanged();
  void previewChanged();
  void triedChanged();
  void weightsChanged();

 private:
  // Edits with equal keys merge: the same control within one gesture.
  QString mergeKey(const QString& control) const;

  std::shared_ptr<const LoadedModel> model_;
  PrunePlan plan_;
  QUndoStack undo_;
  PreviewResult preview_;
  PreviewResult baseline_;  // the unpruned model's numbers
  QVector<TriedPoint> tried_;
  bool weightsModified_ = false;
  quint64 gesture_ = 0;
};
