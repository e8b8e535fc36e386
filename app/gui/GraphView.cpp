#include "GraphView.h"

#include <QWheelEvent>

#include "GraphNodeItem.h"
#include "GraphScene.h"

GraphView::GraphView(QWidget* parent) : QGraphicsView(parent) {
  setRenderHint(QPainter::Antialiasing);
  setDragMode(ScrollHandDrag);
  setTransformationAnchor(AnchorUnderMouse);
  // Minimal updates plus per-item caches keep large graphs responsive.
  setViewportUpdateMode(MinimalViewportUpdate);
  setOptimizationFlag(DontSavePainterState);
  setBackgroundBrush(QColor(250, 250, 252));
}

void GraphView::fitAll() {
  if (!scene()) return;
  QRectF r = scene()->itemsBoundingRect();
  fitInView(r, Qt::KeepAspectRatio);
  // A tall thin graph fitted whole is unreadable; keep nodes legible.
  if (zoom() < 0.35) {
    resetTransform();
    scale(0.35, 0.35);
    centerOn(r.center().x(), r.top() + viewport()->height() / 0.35 / 2);
  }
}

void GraphView::centerOnNode(const QString& name) {
  auto* s = qobject_cast<GraphScene*>(scene());
  if (!s) return;
  if (GraphNodeItem* n = s->node(name)) centerOn(n);
}

void GraphView::zoomBy(double factor) {
  double z = zoom() * factor;
  if (z < 0.05 || z > 8) return;
  scale(factor, factor);
}

void GraphView::wheelEvent(QWheelEvent* e) {
  double steps = e->angleDelta().y() / 120.0;
  zoomBy(std::pow(1.15, steps));
  e->accept();
}
