// The controls above the layer table: one sparsity for all layers, default
// granularity and criterion, global vs per-layer ranking, method, schedule,
// quantization bits and the storage format the size is counted in. Each
// change is an undo command on the document.
#pragma once

#include <QWidget>

class ModelDocument;
class SparsityEditor;
class QComboBox;
class QSpinBox;

class GlobalControls : public QWidget {
  Q_OBJECT
 public:
  explicit GlobalControls(ModelDocument* doc, QWidget* parent = nullptr);
  SparsityEditor* sparsity() const { return sparsity_; }
  QComboBox* granularity() const { return granularity_; }
  QComboBox* criterion() const { return criterion_; }
  // bn_scale as the default criterion works only when every layer that
  // inherits the default ranks a group with a BatchNormalization.
  static bool bnScaleApplies(const ModelDocument& doc, const QString& granularity);

 private:
  void syncFromDocument();
  void updateCriterionChoices();
  void commit(const QString& what);

  ModelDocument* doc_;
  SparsityEditor* sparsity_;
  QComboBox* granularity_;
  QComboBox* criterion_;
  QComboBox* ranking_;
  QComboBox* method_;
  QComboBox* schedule_;
  QSpinBox* steps_;
  QSpinBox* bits_;
  QComboBox* storage_;
  bool syncing_ = false;
};
