// The weights of the selected layer: a legend, one heatmap per filter (with
// pruned weights marked from the latest preview's masks) and the sorted
// per-filter norm bars.
#pragma once

#include <QWidget>
#include <memory>

#include "topiary/train.h"

class QLabel;
class QScrollArea;
class HeatmapView;
class FilterNormBars;
class LoadedModel;
struct LayerInfo;

class HeatmapPanel : public QWidget {
  Q_OBJECT
 public:
  explicit HeatmapPanel(QWidget* parent = nullptr);

  // Shows `layer` of `model`; masks may be null (nothing pruned yet).
  void showLayer(const std::shared_ptr<const LoadedModel>& model, const QString& layer,
                 std::shared_ptr<const topiary::MaskSet> masks, const QString& criterion);
  void clear();
  const QString& layer() const { return layer_; }
  HeatmapView* view() const { return view_; }
  FilterNormBars* normBars() const { return bars_; }
  double lastRenderMs() const { return renderMs_; }

 protected:
  // The norm bars take a fifth of the height (56..110 px), the heatmap the rest.
  void resizeEvent(QResizeEvent* e) override;

 private:
  QLabel* title_;
  QLabel* legend_;
  QLabel* legendMax_;
  QScrollArea* scroll_;
  HeatmapView* view_;
  FilterNormBars* bars_;
  QString layer_;
  double renderMs_ = 0;
};
