#include "GraphView.h"

#include <QWheelEvent>
#include <algorithm>
#include <cmath>

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
  const QRectF r = scene()->itemsBoundingRect().adjusted(-16, -16, 16, 16);
  if (r.isEmpty()) return;
  const double zx = viewport()->width() / r.width(), zy = viewport()->height() / r.height();
  // The whole graph when it fits at a legible size; otherwise as wide as
  // possible but never below kReadableZoom (node titles stay readable, as in
  // Netron), starting at the graph's input, and the user scrolls down.
  double z = std::min({zx, zy, kMaxFitZoom});
  const bool whole = z >= kReadableZoom;
  if (!whole) z = std::clamp(zx, kReadableZoom, kMaxFitZoom);
  resetTransform();
  scale(z, z);
  if (whole) centerOn(r.center());
  else centerOn(r.center().x(), r.top() + viewport()->height() / z / 2);
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
