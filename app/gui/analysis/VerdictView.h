// "Is unstructured pruning worth it here?": storage of the model at matched
// accuracy under every format at 32/8/4 bits, values and index overhead as
// separate bar segments; measured latencies; the verdict sentence the engine
// derives from those numbers (verdict.h). Computed in the background.
#pragma once

#include <QWidget>
#include <memory>

#include "topiary/verdict.h"

class ModelDocument;
class AnalysisJob;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QChartView;
class QHBoxLayout;

class VerdictView : public QWidget {
  Q_OBJECT
 public:
  explicit VerdictView(ModelDocument* doc, QWidget* parent = nullptr);

  void setData(const QString& spec, qint64 limit);
  void setTolerance(double t);
  void setLatencyRuns(int runs) { latencyRuns_ = runs; }
  void compute();
  void cancel();
  bool busy() const;
  const topiary::Verdict* verdict() const { return verdict_.get(); }
  QString verdictText() const;
  // One storage chart per bit-width (32, 8, 4).
  const QList<QChartView*>& charts() const { return charts_; }

 signals:
  void finished(bool ok);

 private:
  void showVerdict();

  ModelDocument* doc_;
  AnalysisJob* job_;
  QString dataSpec_ = "fashion-mnist";
  qint64 dataLimit_ = 1000;
  int latencyRuns_ = 30;
  std::shared_ptr<const topiary::Verdict> verdict_;
  QDoubleSpinBox* tolerance_;
  QPushButton* computeButton_;
  QPushButton* cancelButton_;
  QProgressBar* bar_;
  QLabel* status_;
  QLabel* verdictLabel_;
  QLabel* details_;
  QWidget* chartRow_;
  QList<QChartView*> charts_;
};
