// Teaching mode: a guided walk through the pruning taxonomy on the real
// model. Each step puts its plan on the document (one undo step, so the
// graph, table and preview all change), waits for the workbench's preview of
// exactly that plan, records accuracy/size/latency in a table that grows
// step by step, and computes the step's own illustration in the background
// (a real neuron's u = sum w x + b, dynamic channel skipping, index overhead).
#pragma once

#include <QMap>
#include <QWidget>

#include "PreviewResult.h"
#include "TeachingSteps.h"

class ModelDocument;
class AnalysisJob;
class QLabel;
class QPushButton;
class QTableWidget;
class QTextBrowser;

struct NeuronExample {
  QString layer;
  int neuron = -1;
  int inputs = 0;
  double bias = 0, u = 0, activation = 0;
  QVector<QPair<double, double>> topTerms;  // (w, x), largest |w x| first
  double restSum = 0;                       // sum of the other inputs' w x
};

struct IndexOverhead {
  double valueBytes32 = 0, indexBytes32 = 0, valueBytes4 = 0, indexBytes4 = 0;  // CSR, whole model
};

class TeachingTour : public QWidget {
  Q_OBJECT
 public:
  explicit TeachingTour(ModelDocument* doc, QWidget* parent = nullptr);

  int stepCount() const { return steps_.size(); }
  int current() const { return current_; }
  const TeachingStep& step(int i) const { return steps_[i]; }
  // The plan step i puts on the model: the step's plan with the model's first
  // and last prunable layers locked (the most sensitive; pruning them without
  // fine-tuning would drown every other effect).
  PrunePlan planFor(int i) const;
  void goTo(int i);
  void next() { goTo(current_ + 1); }
  void back() { goTo(current_ - 1); }

  // What step i measured (null until its preview arrived).
  const PreviewResult* measured(int i) const {
    auto it = measured_.constFind(i);
    return it == measured_.constEnd() ? nullptr : &it.value();
  }
  const NeuronExample& neuron() const { return neuron_; }
  // Mean FLOPs saved per image by skipping exactly silent channels, and
  // channels whose largest activation is at most 1 (approximate: changes the output).
  double dynamicSavedFraction() const { return dynamicSaved_; }
  double dynamicSavedApproxFraction() const { return dynamicSavedApprox_; }
  const IndexOverhead& indexOverhead() const { return overhead_; }
  QString illustration() const;

 signals:
  // The step's numbers (and its illustration) are in.
  void stepMeasured(int step);

 private:
  void onPreview();
  void startExtra(int step);
  void refreshTable();
  // Weights of the model as loaded: the denominator of every step's count.
  qint64 originalParams(const PreviewResult& m) const;
  // How much of the model the always-whole first and last layers hold, as a
  // sentence for the illustration (empty when the tour locks nothing).
  QString lockedShare() const;

  ModelDocument* doc_;
  AnalysisJob* job_;
  QVector<TeachingStep> steps_;
  int current_ = -1;
  QMap<int, PreviewResult> measured_;
  NeuronExample neuron_;
  double dynamicSaved_ = -1;
  double dynamicSavedApprox_ = -1;
  IndexOverhead overhead_;
  QLabel* title_;
  QTextBrowser* text_;
  QLabel* extra_;
  QTableWidget* table_;
  QPushButton* back_;
  QPushButton* next_;
  QLabel* position_;
};
