// Accuracy against one cost (size or latency) for every configuration tried,
// with the Pareto front (no other point is both cheaper and more accurate)
// drawn as a line and the current configuration marked. Clicking a point
// asks to restore its configuration. While a preview is still an estimate
// (the first images only), it is drawn as its own point with a one-standard-
// error bar, so the chart is never blank while the numbers refine. A point
// whose cost was not measured (a latency of -1) is not drawn at a made-up
// coordinate: the chart's title counts it and the tooltip gives its accuracy.
#pragma once

#include <QChartView>
#include <QVector>

#include "PreviewResult.h"

class QScatterSeries;
class QLineSeries;
class QValueAxis;

class ParetoChart : public QChartView {
  Q_OBJECT
 public:
  enum class Cost { SizeKB, LatencyMs };
  explicit ParetoChart(Cost cost, QWidget* parent = nullptr);

  // `pending`: the estimate not yet among the points (null when none);
  // `pendingStdErr`: its accuracy's standard error (0..1).
  void setPoints(const QVector<TriedPoint>& points, int currentIndex, const TriedPoint* pending = nullptr,
                 double pendingStdErr = 0);
  // The estimate drawn, if any (value space: cost, accuracy in %), and its bar's ends.
  bool hasPending() const { return hasPending_; }
  QPointF pendingPoint() const { return pending_; }
  QPair<double, double> pendingBar() const { return pendingBar_; }
  // Indices (into the points) on the Pareto front, cheapest first.
  static QVector<int> paretoFront(const QVector<QPointF>& costAccuracy);
  const QVector<int>& front() const { return front_; }
  int pointCount() const { return xy_.size(); }
  // Point `index` is drawn: its cost was measured.
  bool isDrawn(int index) const { return index >= 0 && index < drawn_.size() && drawn_[index]; }
  // The index of the point nearest to a value-space position.
  int nearest(const QPointF& value) const;
  // Where point `index` is drawn, in viewport coordinates (for tests and
  // tooltips); a null point when it is not drawn.
  QPoint viewPosOf(int index) const;
  // The drawn point within `maxPixels` of a viewport position, or -1.
  int pointAt(const QPoint& viewPos, int maxPixels) const;

 protected:
  void mousePressEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  // A short chart drops its legend, so the plot keeps room for its axes.
  void resizeEvent(QResizeEvent* e) override;

 signals:
  void pointClicked(int index);

 private:
  Cost cost_;
  QScatterSeries* tried_;
  QScatterSeries* current_;
  QLineSeries* frontLine_;
  QScatterSeries* estimate_;
  QLineSeries* estimateBar_;
  QValueAxis* ax_;
  QValueAxis* ay_;
  int yTicks_ = 6;
  QVector<QPointF> xy_;  // one per tried point, in their order
  QVector<bool> drawn_;  // its cost is known
  QVector<int> front_;
  bool hasPending_ = false;
  QPointF pending_;
  QPair<double, double> pendingBar_{0, 0};
  QPoint pressPos_;
};
