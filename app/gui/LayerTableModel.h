// The layer table: one row per layer with prunable weights. Editable columns
// (granularity, criterion, sparsity, lock) turn into undo commands on the
// document; the read-only columns show the latest preview's numbers.
#pragma once

#include <QAbstractTableModel>

class ModelDocument;

class LayerTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Name, Op, Granularity, Criterion, Sparsity, Lock, Params, Nonzeros, Flops, ColumnCount };
  // The measured fraction of zero weights of a row (the preview of the
  // current plan), or its target until that preview arrives: what the
  // sparsity bar draws.
  static constexpr int AchievedSparsityRole = Qt::UserRole + 1;

  explicit LayerTableModel(ModelDocument* doc, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  int columnCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

  QString layerAt(int row) const;
  // What the granularity and criterion editors of a row offer: only values
  // the engine accepts for that layer (N:M as "2:4"-style patterns).
  QStringList granularityChoices(int row) const;
  QStringList criterionChoices(int row) const;
  // The granularity a row runs with: its own, or the global default as the
  // engine adapts it ("" when the default does not apply: left dense).
  QString effectiveGranularity(int row) const;
  int rowOf(const QString& layer) const;
  // An editor closed: the next edit of a cell is an undo step of its own.
  void endEditGesture() const;

  static QString formatCount(double v);  // 1234567 -> "1.23M"

 private:
  void refreshAll();
  // Why a row has more zeros than its own plan asks for (tooltips).
  QString coupledWhy(int row) const;
  ModelDocument* doc_;
};
