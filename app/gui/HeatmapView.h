// Shows a HeatmapRenderer's image, with a tooltip naming the weight under the
// mouse (filter, channel, row, column, value, pruned or kept).
#pragma once

#include <QWidget>
#include <memory>

class HeatmapRenderer;

class HeatmapView : public QWidget {
  Q_OBJECT
 public:
  explicit HeatmapView(QWidget* parent = nullptr);
  void setRenderer(std::shared_ptr<const HeatmapRenderer> r, bool denseLayer);
  const HeatmapRenderer* renderer() const { return renderer_.get(); }
  QString describe(QPoint widgetPos) const;  // the tooltip text at a position

  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent*) override;
  bool event(QEvent* e) override;

 private:
  std::shared_ptr<const HeatmapRenderer> renderer_;
  bool dense_ = false;
};
