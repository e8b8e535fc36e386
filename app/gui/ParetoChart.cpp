#include "ParetoChart.h"

#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QResizeEvent>
#include <QScatterSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <numeric>

ParetoChart::ParetoChart(Cost cost, QWidget* parent) : QChartView(parent), cost_(cost) {
  auto* chart = new QChart;
  chart->setMargins(QMargins(4, 4, 4, 4));
  chart->legend()->setAlignment(Qt::AlignBottom);
  tried_ = new QScatterSeries;
  tried_->setName(tr("tried"));
  tried_->setMarkerSize(9);
  tried_->setColor(QColor(70, 120, 190));
  tried_->setBorderColor(QColor(40, 70, 120));
  frontLine_ = new QLineSeries;
  frontLine_->setName(tr("Pareto front"));
  frontLine_->setPen(QPen(QColor(214, 80, 60), 2));
  frontLine_->setPointsVisible(false);
  current_ = new QScatterSeries;
  current_->setName(tr("current"));
  current_->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
  current_->setMarkerSize(13);
  current_->setColor(QColor(255, 170, 0));
  current_->setBorderColor(Qt::black);
  estimateBar_ = new QLineSeries;
  estimateBar_->setPen(QPen(QColor(120, 120, 120), 2));
  estimate_ = new QScatterSeries;
  estimate_->setName(tr("estimate \u00b1 1 s.e."));
  estimate_->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
  estimate_->setMarkerSize(11);
  estimate_->setColor(QColor(255, 255, 255));
  estimate_->setBorderColor(QColor(255, 140, 0));
  chart->addSeries(frontLine_);
  chart->addSeries(tried_);
  chart->addSeries(current_);
  chart->addSeries(estimateBar_);
  chart->addSeries(estimate_);
  for (QLegendMarker* m : chart->legend()->markers(estimateBar_)) m->setVisible(false);
  ax_ = new QValueAxis;
  ax_->setTitleText(cost == Cost::SizeKB ? tr("size (KB)") : tr("latency (ms, batch 1, 1 thread)"));
  ax_->setTickCount(6);
  ay_ = new QValueAxis;
  ay_->setTitleText(tr("accuracy (%)"));
  ay_->setTickCount(6);
  chart->addAxis(ax_, Qt::AlignBottom);
  chart->addAxis(ay_, Qt::AlignLeft);
  for (QAbstractSeries* s : {static_cast<QAbstractSeries*>(frontLine_), static_cast<QAbstractSeries*>(tried_),
                             static_cast<QAbstractSeries*>(current_), static_cast<QAbstractSeries*>(estimateBar_),
                             static_cast<QAbstractSeries*>(estimate_)}) {
    s->attachAxis(ax_);
    s->attachAxis(ay_);
  }
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  // Small enough that the preview dock and the weights/jobs dock below it
  // fit a 1366x768 screen together (gui_usability fitsSmallScreen); the
  // default layout gives the chart more.
  setMinimumHeight(150);
  setToolTip(tr("Click a point to restore that configuration"));
  QFont titleFont = chart->titleFont();
  titleFont.setPointSizeF(std::max(7.0, titleFont.pointSizeF() * 0.85));
  chart->setTitleFont(titleFont);
  chart->setTitleBrush(QColor(150, 60, 30));
}

QVector<int> ParetoChart::paretoFront(const QVector<QPointF>& pts) {
  QVector<int> order(pts.size(), 0);
  std::iota(order.begin(), order.end(), 0);
  // Cheapest first; for equal cost the most accurate first.
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (pts[a].x() != pts[b].x()) return pts[a].x() < pts[b].x();
    return pts[a].y() > pts[b].y();
  });
  QVector<int> front;
  double best = -1e300;
  for (int i : order)
    if (pts[i].y() > best) {
      front.push_back(i);
      best = pts[i].y();
    }
  return front;
}

int ParetoChart::nearest(const QPointF& v) const {
  int best = -1;
  double bestD = 1e300;
  const double sx = std::max(1e-12, ax_->max() - ax_->min()), sy = std::max(1e-12, ay_->max() - ay_->min());
  for (int i = 0; i < xy_.size(); ++i) {
    if (!drawn_[i]) continue;
    double dx = (xy_[i].x() - v.x()) / sx, dy = (xy_[i].y() - v.y()) / sy;
    double d = dx * dx + dy * dy;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

int ParetoChart::pointAt(const QPoint& viewPos, int maxPixels) const {
  int best = -1;
  double bestD = double(maxPixels) * maxPixels;
  for (int i = 0; i < xy_.size(); ++i) {
    if (!drawn_[i]) continue;
    const QPoint d = viewPosOf(i) - viewPos;
    const double dd = double(d.x()) * d.x() + double(d.y()) * d.y();
    if (dd <= bestD) {
      bestD = dd;
      best = i;
    }
  }
  return best;
}

void ParetoChart::mousePressEvent(QMouseEvent* e) {
  pressPos_ = e->pos();
  QChartView::mousePressEvent(e);
}

void ParetoChart::mouseReleaseEvent(QMouseEvent* e) {
  // Picked by screen distance, so a point is easy to hit whatever the axes'
  // ranges, and a drag is not a click.
  if (e->button() == Qt::LeftButton && (e->pos() - pressPos_).manhattanLength() < 6) {
    int i = pointAt(e->pos(), 12);
    if (i >= 0) emit pointClicked(i);
  }
  QChartView::mouseReleaseEvent(e);
}

QPoint ParetoChart::viewPosOf(int index) const {
  if (!isDrawn(index)) return {};
  const QPointF inChart = chart()->mapToPosition(xy_[index], tried_);
  return mapFromScene(chart()->mapToScene(inChart));
}

void ParetoChart::setPoints(const QVector<TriedPoint>& points, int currentIndex, const TriedPoint* pending,
                            double pendingStdErr) {
  auto costOf = [&](const TriedPoint& p) { return cost_ == Cost::SizeKB ? p.storageBytes / 1024.0 : p.latencyMs; };
  // A latency that could not be measured is stored as -1: drawn at x = -1 it
  // read as a real (impossible) measurement, so it is left out and named.
  auto known = [](double cost) { return std::isfinite(cost) && cost >= 0; };
  xy_.clear();
  drawn_.clear();
  QVector<QPointF> drawnXy;
  QVector<int> drawnIndex;
  QStringList unmeasured;
  for (int i = 0; i < points.size(); ++i) {
    const TriedPoint& p = points[i];
    xy_.push_back(QPointF(costOf(p), p.accuracy * 100.0));
    drawn_.push_back(known(xy_.back().x()));
    if (drawn_.back()) {
      drawnXy << xy_.back();
      drawnIndex << i;
    } else {
      unmeasured << QString::number(p.accuracy * 100.0, 'f', 2) + "%";
    }
  }
  front_.clear();
  for (int i : paretoFront(drawnXy)) front_ << drawnIndex[i];
  const QString what = cost_ == Cost::SizeKB ? tr("size") : tr("latency");
  const QString note =
      unmeasured.isEmpty() ? QString()
      : unmeasured.size() == 1
          ? tr("1 tried point not drawn: its %1 was not measured").arg(what)
          : tr("%1 tried points not drawn: their %2 was not measured").arg(unmeasured.size()).arg(what);
  chart()->setTitle(note);
  QString tip = tr("Click a point to restore that configuration");
  if (!unmeasured.isEmpty())
    tip += "\n" + tr("Not drawn (%1 not measured), accuracy: %2").arg(what, unmeasured.join(", "));
  setToolTip(tip);
  tried_->replace(QList<QPointF>(drawnXy.begin(), drawnXy.end()));
  QList<QPointF> f;
  for (int i : front_) f << xy_[i];
  frontLine_->replace(f);
  QList<QPointF> cur;
  if (isDrawn(currentIndex)) cur << xy_[currentIndex];
  current_->replace(cur);
  // The estimate is drawn but is not a tried point: it cannot be clicked and
  // does not move the front until its accuracy on every image is known.
  hasPending_ = pending && known(costOf(*pending));
  QVector<QPointF> extent = drawnXy;
  if (hasPending_) {
    pending_ = QPointF(costOf(*pending), pending->accuracy * 100.0);
    const double e = pendingStdErr * 100.0;
    pendingBar_ = {std::max(0.0, pending_.y() - e), std::min(100.0, pending_.y() + e)};
    estimate_->replace(QList<QPointF>{pending_});
    estimateBar_->replace(QList<QPointF>{{pending_.x(), pendingBar_.first}, {pending_.x(), pendingBar_.second}});
    extent << QPointF(pending_.x(), pendingBar_.first) << QPointF(pending_.x(), pendingBar_.second);
  } else {
    estimate_->clear();
    estimateBar_->clear();
  }
  if (extent.isEmpty()) {
    ax_->setRange(0, 1);
    ay_->setRange(0, 100);
    return;
  }
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const QPointF& p : extent) {
    x0 = std::min(x0, p.x());
    x1 = std::max(x1, p.x());
    y0 = std::min(y0, p.y());
    y1 = std::max(y1, p.y());
  }
  const double px = std::max((x1 - x0) * 0.08, std::max(std::abs(x1) * 0.02, 1e-3));
  const double py = std::max((y1 - y0) * 0.1, 1.0);
  ax_->setRange(std::max(0.0, x0 - px), x1 + px);
  ay_->setRange(std::max(0.0, y0 - py), std::min(100.0, y1 + py));
  ay_->setTickCount(yTicks_);  // from the height (resizeEvent); nice numbers below may change it
  // Round ticks, with as many decimals as the span needs (a 41-43 KB range
  // labelled "%.0f" read 41, 41, 42, 42, 43).
  for (QValueAxis* a : {ax_, ay_}) {
    a->applyNiceNumbers();
    const double span = a->max() - a->min();
    const int decimals = span >= 20 ? 0 : span >= 2 ? 1 : span >= 0.2 ? 2 : 3;
    a->setLabelFormat(QString("%.%1f").arg(decimals));
  }
}

void ParetoChart::resizeEvent(QResizeEvent* e) {
  // Below this the legend left the plot a strip whose axis labels and title
  // were elided to "..." (the preview dock on a 768-pixel screen).
  const bool roomy = e->size().height() >= 240;
  chart()->legend()->setVisible(roomy);
  yTicks_ = roomy ? 6 : 3;  // overlapping tick labels are elided too
  if (ay_->tickCount() > yTicks_) {
    ay_->setTickCount(yTicks_);
    ay_->applyNiceNumbers();
  }
  QChartView::resizeEvent(e);
}
