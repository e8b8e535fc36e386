// The view onto the GraphScene: wheel zoom around the cursor, drag to pan,
// fit to window, centre on a node.
#pragma once

#include <QGraphicsView>

class GraphView : public QGraphicsView {
  Q_OBJECT
 public:
  explicit GraphView(QWidget* parent = nullptr);

  // Zoom bounds of fitAll(): below kReadableZoom the 8.5 pt node titles blur.
  static constexpr double kReadableZoom = 0.7;
  static constexpr double kMaxFitZoom = 1.25;
  void fitAll();
  void centerOnNode(const QString& name);
  void zoomBy(double factor);
  double zoom() const { return transform().m11(); }

 protected:
  void wheelEvent(QWheelEvent* e) override;
};
