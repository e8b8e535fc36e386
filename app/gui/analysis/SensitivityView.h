// Sensitivity view: one accuracy-vs-sparsity curve per prunable layer (each
// layer pruned alone, the others dense) for the chosen granularity and
// criterion, computed in the background with progress and cancel, cached per
// model. Clicking a curve sets that layer's sparsity to the largest point
// within the tolerance; "Apply to all" does it for every layer in one undo step.
#pragma once

#include <QHash>
#include <QWidget>
#include <memory>

#include "topiary/sensitivity.h"

class ModelDocument;
class AnalysisJob;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QChartView;
class QChart;

class SensitivityView : public QWidget {
  Q_OBJECT
 public:
  explicit SensitivityView(ModelDocument* doc, QWidget* parent = nullptr);
  ~SensitivityView() override;

  void setData(const QString& spec, qint64 limit);
  void setSparsities(const std::vector<double>& s) { sparsities_ = s; }
  void setGranularity(const QString& g);
  void setTolerance(double t);  // absolute accuracy drop, 0.01 = one point
  double tolerance() const;

  // Starts the computation (or takes the cached curves); `finished` follows.
  void compute();
  void cancel();
  bool busy() const;
  const topiary::SensitivityResult* result() const { return result_.get(); }
  int cacheHits() const { return cacheHits_; }
  QChartView* chartView() const { return chartView_; }

  // What a click on the layer's curve does: sets its plan; returns the sparsity chosen.
  double pickLayer(const QString& layer);
  // Every analysed layer at its tolerance sparsity, as one undo step. Returns layers set.
  int applyAllAtTolerance();

 signals:
  void finished(bool ok);

 private:
  QString cacheKey() const;
  void showResult();
  void onModelChanged();

  ModelDocument* doc_;
  AnalysisJob* job_;
  QString dataSpec_ = "fashion-mnist";
  qint64 dataLimit_ = 1000;
  std::vector<double> sparsities_ = {0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95};
  std::shared_ptr<const topiary::SensitivityResult> result_;
  QHash<QString, std::shared_ptr<const topiary::SensitivityResult>> cache_;
  int cacheHits_ = 0;
  QComboBox* granularity_;
  QComboBox* criterion_;
  QDoubleSpinBox* tolerance_;
  QPushButton* computeButton_;
  QPushButton* cancelButton_;
  QPushButton* applyAll_;
  QProgressBar* bar_;
  QLabel* status_;
  QChartView* chartView_;
};
