// The live preview: a before/after card (accuracy, size in the chosen storage
// format, nonzero parameters, FLOPs, latency), a busy line, and the Pareto
// charts of every configuration tried.
#pragma once

#include <QWidget>

class ModelDocument;
class ParetoChart;
class QLabel;
class QGridLayout;
class QTabWidget;

class PreviewPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PreviewPanel(ModelDocument* doc, QWidget* parent = nullptr);

  void setBusy(bool busy);
  void showError(const QString& message);
  // The "after" column's text of a row: "accuracy", "size", "nonzeros", "flops", "latency".
  QString afterText(const QString& row) const;
  // The line under the card (what was measured on how many images, notes).
  QString statusText() const;
  ParetoChart* sizeChart() const { return sizeChart_; }
  ParetoChart* latencyChart() const { return latencyChart_; }
  QTabWidget* charts() const { return tabs_; }

 signals:
  void restoreRequested(int triedIndex);

 private:
  void refreshCard();
  void refreshCharts();

  ModelDocument* doc_;
  QGridLayout* grid_;
  QStringList rows_;
  QVector<QLabel*> before_, after_, change_;
  QLabel* status_;
  QTabWidget* tabs_;
  ParetoChart* sizeChart_;
  ParetoChart* latencyChart_;
};
