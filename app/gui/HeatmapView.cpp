#include "HeatmapView.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include "HeatmapRenderer.h"

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) { setMouseTracking(true); }

void HeatmapView::setRenderer(std::shared_ptr<const HeatmapRenderer> r, bool denseLayer) {
  renderer_ = std::move(r);
  dense_ = denseLayer;
  updateGeometry();
  resize(sizeHint());
  update();
}

QSize HeatmapView::sizeHint() const {
  return renderer_ ? renderer_->image().size() : QSize(200, 120);
}

void HeatmapView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  if (!renderer_) {
    p.setPen(QColor(120, 120, 120));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, tr("Select a layer with weights to see them here."));
    return;
  }
  p.drawImage(0, 0, renderer_->image());
}

QString HeatmapView::describe(QPoint pos) const {
  if (!renderer_) return {};
  HeatmapRenderer::Element e = renderer_->locate(pos);
  if (!e.valid) return {};
  // A dense neuron's inputs are wrapped row by row into its tile.
  QString where = dense_ ? tr("neuron %1, input %2").arg(e.filter).arg(e.within)
                         : tr("filter %1, channel %2, row %3, col %4").arg(e.filter).arg(e.channel).arg(e.row).arg(e.col);
  return QString("%1\nvalue %2%3").arg(where).arg(double(e.value), 0, 'g', 4).arg(e.pruned ? tr("  (pruned)") : "");
}

bool HeatmapView::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    QString text = describe(he->pos());
    if (text.isEmpty()) QToolTip::hideText();
    else QToolTip::showText(he->globalPos(), text, this);
    return true;
  }
  return QWidget::event(e);
}
