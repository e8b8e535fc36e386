// Per-filter norms of a layer as bars, sorted ascending by the chosen
// criterion (l1 or l2 of the filter's weights), pruned filters in red: shows
// where the ranking cut falls.
#pragma once

#include <QVector>
#include <QWidget>

#include "topiary/tensor.h"

class FilterNormBars : public QWidget {
  Q_OBJECT
 public:
  explicit FilterNormBars(QWidget* parent = nullptr);
  // Norms are computed on the original weights (what the criterion ranks).
  void setWeights(const topiary::Tensor* weight, const topiary::Tensor* mask, bool filtersAreColumns,
                  const QString& criterion);
  const QVector<double>& sortedNorms() const { return norms_; }
  QSize sizeHint() const override { return QSize(300, 110); }

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  QVector<double> norms_;       // ascending
  QVector<double> keptFraction_;  // per sorted filter: fraction of weights kept
  QString criterion_;
};
