// The view onto the GraphScene: wheel zoom around the cursor, drag to pan,
// fit to window, centre on a node.
#pragma once

#include <QGraphicsView>

class GraphView : public QGraphicsView {
  Q_OBJECT
 public:
  explicit GraphView(QWidget* parent = nullptr);

  void fitAll();
  void centerOnNode(const QString& name);
  void zoomBy(double factor);
  double zoom() const { return transform().m11(); }

 protected:
  void wheelEvent(QWheelEvent* e) override;
};
