#include "GraphEdgeItem.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QtMath>

#include "GraphNodeItem.h"

GraphEdgeItem::GraphEdgeItem(const QVector<QPointF>& route, const QString& label) : label_(label) {
  setCacheMode(DeviceCoordinateCache);
  setZValue(0);
  if (route.size() < 2) return;
  // Leave the source from its bottom edge and enter the target at its top edge.
  QVector<QPointF> pts = route;
  const double half = GraphNodeItem::kHeight / 2;
  pts.front() += QPointF(0, half);
  pts.back() -= QPointF(0, half + 2);
  path_.moveTo(pts.front());
  for (int i = 1; i < pts.size(); ++i) {
    QPointF a = pts[i - 1], b = pts[i];
    double dy = (b.y() - a.y()) / 2;
    path_.cubicTo(a + QPointF(0, dy), b - QPointF(0, dy), b);
  }
  tip_ = pts.back();
  tipDir_ = QPointF(0, 1);
  if (pts.size() >= 2 && pts[pts.size() - 2].y() >= tip_.y()) tipDir_ = QPointF(0, -1);  // back edge
  // The label sits just below the source, where the tensor leaves it.
  labelPos_ = pts.front() + QPointF(4, 11);
  QFont f;
  f.setPointSizeF(7);
  QFontMetricsF fm(f);
  QRectF lr(labelPos_ - QPointF(0, fm.ascent()), QSizeF(fm.horizontalAdvance(label_) + 4, fm.height()));
  bounds_ = path_.boundingRect().adjusted(-6, -6, 6, 6).united(lr);
}

QRectF GraphEdgeItem::boundingRect() const { return bounds_; }

void GraphEdgeItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
  p->setRenderHint(QPainter::Antialiasing);
  p->setPen(QPen(QColor(110, 110, 110), 1.3));
  p->setBrush(Qt::NoBrush);
  p->drawPath(path_);
  QPointF d = tipDir_;
  QPointF n(-d.y(), d.x());
  QPolygonF head{tip_ + d * 2, tip_ - d * 7 + n * 4, tip_ - d * 7 - n * 4};
  p->setBrush(QColor(110, 110, 110));
  p->drawPolygon(head);
  if (!label_.isEmpty()) {
    QFont f = p->font();
    f.setPointSizeF(7);
    p->setFont(f);
    p->setPen(QColor(60, 60, 60));
    p->drawText(labelPos_, label_);
  }
}
