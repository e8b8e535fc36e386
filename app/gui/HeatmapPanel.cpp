#include "HeatmapPanel.h"

#include <QElapsedTimer>
#include <QLabel>
#include <QPainter>
#include <QResizeEvent>
#include <QScrollArea>
#include <QVBoxLayout>
#include <algorithm>

#include "FilterNormBars.h"
#include "HeatmapRenderer.h"
#include "HeatmapView.h"
#include "LoadedModel.h"

namespace {

// A small legend image: the diverging scale, zero, pruned.
QPixmap legendPixmap() {
  QImage img(150, 12, QImage::Format_RGB32);
  for (int x = 0; x < img.width(); ++x) {
    QRgb c = HeatmapRenderer::divergingColor(float(x) / (img.width() - 1) * 2 - 1);
    for (int y = 0; y < img.height(); ++y) img.setPixel(x, y, c);
  }
  return QPixmap::fromImage(img);
}

// Weights stored [in, out]: Gemm without transB, and MatMul.
bool filtersAreColumns(const topiary::Graph& g, const LayerInfo& li) {
  const topiary::Node& n = g.nodes[size_t(li.nodeIndex)];
  if (n.opType == "MatMul") return true;
  if (n.opType == "Gemm") return n.attrInt("transB", 0) == 0;
  return false;
}

}  // namespace

HeatmapPanel::HeatmapPanel(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel(this);
  title_->setWordWrap(true);
  title_->setTextFormat(Qt::RichText);
  legend_ = new QLabel(this);
  auto* legendRow = new QWidget(this);
  auto* lr = new QHBoxLayout(legendRow);
  lr->setContentsMargins(0, 0, 0, 0);
  auto* scaleLabel = new QLabel(legendRow);
  scaleLabel->setPixmap(legendPixmap());
  auto* zero = new QLabel(legendRow);
  QPixmap z(12, 12);
  z.fill(QColor(HeatmapRenderer::zeroColor()));
  zero->setPixmap(z);
  auto* pruned = new QLabel(legendRow);
  QImage ph(12, 12, QImage::Format_RGB32);
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 12; ++x) ph.setPixel(x, y, ((x + y) / 2) % 2 ? qRgb(60, 60, 60) : qRgb(115, 115, 115));
  pruned->setPixmap(QPixmap::fromImage(ph));
  lr->addWidget(legend_);
  lr->addWidget(scaleLabel);
  legendMax_ = new QLabel(tr("+max"), legendRow);
  lr->addWidget(legendMax_);
  lr->addSpacing(8);
  lr->addWidget(zero);
  lr->addWidget(new QLabel(tr("zero"), legendRow));
  lr->addSpacing(8);
  lr->addWidget(pruned);
  lr->addWidget(new QLabel(tr("pruned"), legendRow));
  lr->addStretch(1);

  view_ = new HeatmapView;
  scroll_ = new QScrollArea(this);
  scroll_->setWidget(view_);
  scroll_->setWidgetResizable(false);
  scroll_->setAlignment(Qt::AlignCenter);
  scroll_->setBackgroundRole(QPalette::Base);
  bars_ = new FilterNormBars(this);

  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 4, 4, 4);
  lay->addWidget(title_);
  lay->addWidget(legendRow);
  lay->addWidget(scroll_, 1);
  lay->addWidget(bars_);
  clear();
}

void HeatmapPanel::resizeEvent(QResizeEvent* e) {
  // A fixed share: at their preferred 110 px in a short dock the bars left
  // the heatmap 54 px, less than one row of filters.
  bars_->setFixedHeight(std::clamp(e->size().height() / 5, 56, 110));
  QWidget::resizeEvent(e);
}

void HeatmapPanel::clear() {
  layer_.clear();
  title_->setText(tr("<b>Weights</b><br>Select a Conv, Gemm or MatMul layer in the graph or the table."));
  legend_->setText(tr("-max"));
  legendMax_->setText(tr("+max"));
  view_->setRenderer(nullptr, false);
  bars_->setWeights(nullptr, nullptr, false, "l1");
}

void HeatmapPanel::showLayer(const std::shared_ptr<const LoadedModel>& model, const QString& layer,
                             std::shared_ptr<const topiary::MaskSet> masks, const QString& criterion) {
  const LayerInfo* li = model ? model->layer(layer) : nullptr;
  if (!li) {
    clear();
    if (model && !layer.isEmpty())
      title_->setText(tr("<b>%1</b><br>This node has no prunable weights.").arg(layer.toHtmlEscaped()));
    return;
  }
  layer_ = layer;
  const topiary::Tensor& w = model->graph->initializers.at(li->weight.toStdString());
  const topiary::Tensor* mask = nullptr;
  if (masks) {
    auto it = masks->find(li->weight.toStdString());
    if (it != masks->end()) mask = &it->second;
  }
  const bool cols = filtersAreColumns(*model->graph, *li);
  QElapsedTimer t;
  t.start();
  HeatmapRenderer::Options opt;
  opt.filtersAreColumns = cols;
  auto r = std::make_shared<HeatmapRenderer>(w, mask, opt);
  renderMs_ = t.nsecsElapsed() / 1e6;
  const bool dense = w.rank() == 2;
  view_->setRenderer(r, dense);
  bars_->setWeights(&w, mask, cols, criterion);
  qint64 zeros = 0;
  if (mask)
    for (int64_t i = 0; i < mask->numel(); ++i) zeros += mask->f()[i] == 0.f;
  title_->setText(tr("<b>%1</b> (%2) weight %3 %4<br>%5 %6, %7 of %8 weights pruned, %9 whole %6 pruned")
                      .arg(layer.toHtmlEscaped(), li->op, li->weight.toHtmlEscaped(),
                           QString::fromStdString(topiary::shapeToString(w.shape())))
                      .arg(r->filterCount())
                      .arg(dense ? tr("neurons") : tr("filters"))
                      .arg(zeros)
                      .arg(w.numel())
                      .arg(r->prunedFilterCount()));
  // The colour scale is symmetric around zero: both ends show the number.
  legend_->setText(QString("-%1").arg(double(r->maxAbs()), 0, 'g', 3));
  legendMax_->setText(QString("+%1").arg(double(r->maxAbs()), 0, 'g', 3));
}
