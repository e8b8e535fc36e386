// Dynamic pruning made visible. Top: for one chosen input image, how many
// input channels each Conv could skip at run time because this input leaves
// them silent (dynamic.h), next to the channels the current static plan
// removes for every input, and the compute saved. Bottom: a short dynamic
// network surgery fine-tune and, per layer, how many pruned weights were
// spliced back (mask 0 -> 1) and pruned again.
#pragma once

#include <QWidget>
#include <memory>

#include "topiary/dynamic.h"
#include "topiary/prune_run.h"

class ModelDocument;
class AnalysisJob;
class QSpinBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QChartView;

struct DynamicLayerRow {
  QString node;
  qint64 channels = 0;
  double skippedDynamic = 0;  // for the chosen input
  qint64 skippedStatic = 0;   // input channels whose weights the plan zeroes
  double flops = 0, savedFlops = 0;
};

class DynamicView : public QWidget {
  Q_OBJECT
 public:
  explicit DynamicView(ModelDocument* doc, QWidget* parent = nullptr);

  void setImageIndex(int i);
  void setThreshold(double t);  // skip channels whose largest |activation| is at most t
  void analyze();
  // A short DNS fine-tune (element granularity at `sparsity`) on `trainLimit` images.
  void runSurgery(double sparsity = 0.8, qint64 trainLimit = 2000, int maxBatches = 30);
  bool busy() const;
  const QVector<DynamicLayerRow>& rows() const { return rows_; }
  double savedFraction() const { return savedFraction_; }
  int label() const { return label_; }
  const std::vector<topiary::DnsLayerStats>& surgery() const { return dns_; }
  QChartView* skipChart() const { return skipChart_; }
  QChartView* dnsChart() const { return dnsChart_; }

 signals:
  void analyzed(bool ok);
  void surgeryFinished(bool ok);

 private:
  void showRows();
  void showSurgery();

  ModelDocument* doc_;
  AnalysisJob* job_;
  QVector<DynamicLayerRow> rows_;
  double savedFraction_ = 0;
  int label_ = -1;
  std::vector<topiary::DnsLayerStats> dns_;
  QSpinBox* index_;
  QDoubleSpinBox* threshold_;
  QLabel* image_;
  QLabel* summary_;
  QLabel* dnsSummary_;
  QPushButton* analyzeButton_;
  QPushButton* surgeryButton_;
  QPushButton* cancelButton_;
  QProgressBar* bar_;
  QChartView* skipChart_;
  QChartView* dnsChart_;
};
