// A tensor flowing between two nodes: a smooth curve through the layout's
// route points, an arrow head, and the tensor's shape as a label.
#pragma once

#include <QGraphicsItem>
#include <QPainterPath>
#include <QPointF>
#include <QVector>

class GraphEdgeItem : public QGraphicsItem {
 public:
  GraphEdgeItem(const QVector<QPointF>& route, const QString& label);

  QRectF boundingRect() const override;
  QPainterPath shape() const override { return path_; }
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* widget) override;
  const QString& label() const { return label_; }

 private:
  QPainterPath path_;
  QPointF labelPos_;
  QPointF tip_, tipDir_;
  QString label_;
  QRectF bounds_;
};
