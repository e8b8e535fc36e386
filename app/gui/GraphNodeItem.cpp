#include "GraphNodeItem.h"

#include <QFontMetricsF>
#include <QHash>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

namespace {
constexpr double kTextInset = 18;  // the text's margins: 12 left (past the colour stripe), 6 right
}  // namespace

GraphNodeItem::GraphNodeItem(const QString& name, const QString& op, Kind kind)
    : name_(name), op_(op), kind_(kind) {
  setFlag(ItemIsSelectable);
  // Cached at screen resolution: an item-resolution cache scaled to the
  // fit zoom blurred the titles; zooming re-renders only the visible nodes.
  setCacheMode(DeviceCoordinateCache);
  setToolTip(kind == Kind::Operator ? QString("%1 (%2)").arg(name, op) : name);
  setZValue(1);
}

void GraphNodeItem::setSparsity(double s) {
  if (qFuzzyCompare(1 + s, 1 + sparsity_)) return;
  sparsity_ = s;
  update();
}

void GraphNodeItem::setHighlighted(bool h) {
  if (h == highlighted_) return;
  highlighted_ = h;
  update();
}

void GraphNodeItem::setDetail(const QString& detail) {
  detail_ = detail;
  update();
}

QColor GraphNodeItem::colorForOp(const QString& op) {
  // Families share a hue so a glance separates compute from plumbing.
  static const QHash<QString, QColor> known = {
      {"Conv", QColor(66, 133, 244)},       {"ConvTranspose", QColor(66, 133, 244)},
      {"Gemm", QColor(142, 68, 173)},       {"MatMul", QColor(142, 68, 173)},
      {"Relu", QColor(46, 160, 67)},        {"LeakyRelu", QColor(46, 160, 67)},
      {"Sigmoid", QColor(46, 160, 67)},     {"Tanh", QColor(46, 160, 67)},
      {"Clip", QColor(46, 160, 67)},        {"MaxPool", QColor(230, 126, 34)},
      {"AveragePool", QColor(230, 126, 34)}, {"GlobalAveragePool", QColor(230, 126, 34)},
      {"BatchNormalization", QColor(212, 172, 13)}, {"Add", QColor(22, 160, 133)},
      {"Mul", QColor(22, 160, 133)},        {"Concat", QColor(22, 160, 133)},
      {"Flatten", QColor(127, 140, 141)},   {"Reshape", QColor(127, 140, 141)},
      {"Softmax", QColor(192, 57, 43)},     {"LogSoftmax", QColor(192, 57, 43)},
  };
  auto it = known.find(op);
  if (it != known.end()) return *it;
  return QColor::fromHsv(int(qHash(op) % 360), 110, 200);
}

QRectF GraphNodeItem::boundingRect() const {
  return QRectF(-kWidth / 2 - 4, -kHeight / 2 - 4, kWidth + 8, kHeight + 8);
}

void GraphNodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
  p->setRenderHint(QPainter::Antialiasing);
  QRectF r(-kWidth / 2, -kHeight / 2, kWidth, kHeight);
  QColor base = kind_ == Kind::Operator ? colorForOp(op_) : QColor(90, 90, 90);
  // Sparsity: the fill fades towards white and a dark bar shows the pruned fraction.
  QColor fill = base;
  if (kind_ != Kind::Operator) fill = QColor(236, 236, 236);
  else fill = QColor::fromRgbF(base.redF() * 0.35 + 0.65, base.greenF() * 0.35 + 0.65, base.blueF() * 0.35 + 0.65);
  QPen border(base.darker(130), 1.5);
  if (highlighted_) border = QPen(QColor(255, 140, 0), 4);
  if (isSelected()) border = QPen(QColor(20, 20, 20), 3);
  p->setPen(border);
  p->setBrush(fill);
  double radius = kind_ == Kind::Operator ? 6 : kHeight / 2;
  p->drawRoundedRect(r, radius, radius);
  // Colour stripe on the left says the operator family even when faded.
  if (kind_ == Kind::Operator) {
    p->setPen(Qt::NoPen);
    p->setBrush(base);
    p->drawRect(QRectF(r.left() + 1, r.top() + 4, 6, r.height() - 8));
  }
  if (prunable_ && sparsity_ > 0) {
    QRectF bar(r.left() + 10, r.bottom() - 6, (r.width() - 20) * sparsity_, 3);
    p->setBrush(QColor(200, 40, 40));
    p->drawRect(bar);
  }
  p->setPen(QColor(20, 20, 20));
  QFont f = p->font();
  f.setPointSizeF(8.5);
  f.setBold(true);
  p->setFont(f);
  QFontMetricsF fm(f);
  QRectF text = r.adjusted(12, 3, -(kTextInset - 12), -9);  // clear of the sparsity bar
  QString title = kind_ == Kind::Operator ? op_ : name_;
  p->drawText(text, Qt::AlignLeft | Qt::AlignTop, fm.elidedText(title, Qt::ElideRight, text.width()));
  f.setBold(false);
  f.setPointSizeF(7.5);
  p->setFont(f);
  p->drawText(text, Qt::AlignLeft | Qt::AlignBottom, secondLine(f));
}

QString GraphNodeItem::secondLine(const QFont& font) const {
  QFontMetricsF fm(font);
  const double width = kWidth - kTextInset;
  if (kind_ != Kind::Operator) return fm.elidedText(detail_, Qt::ElideMiddle, width);
  const QString suffix = prunable_ && sparsity_ > 0 ? QString("  %1%").arg(qRound(sparsity_ * 100)) : QString();
  // Exporters name layers by scope (model/conv2d/BiasAdd beside
  // model/conv2d_1/BiasAdd, model/separable_conv2d_13/separable_conv2d): the
  // front is shared and the last scope tells them apart, so the front goes
  // first, then the operator's own part, then the scope's middle. Cut in the
  // middle of the whole name, the first two both read "model/conv...asAdd".
  const double room = width - fm.horizontalAdvance(suffix);
  const QString ellipsis(QChar(0x2026));
  const QStringList parts = name_.split('/');
  QString shown = name_;
  for (int k = 1; k + 1 < parts.size() && fm.horizontalAdvance(shown) > room; ++k)
    shown = ellipsis + "/" + parts.mid(k).join('/');
  if (fm.horizontalAdvance(shown) <= room) return shown + suffix;
  if (parts.size() < 2) return fm.elidedText(shown, Qt::ElideMiddle, room) + suffix;
  const QString& scope = parts[parts.size() - 2];
  if (fm.horizontalAdvance(ellipsis + "/" + scope + "/" + ellipsis) <= room)
    return fm.elidedText(shown, Qt::ElideRight, room) + suffix;
  // The scope alone is too long: its two ends (separ...conv2d_13).
  const QString tail = "/" + ellipsis;
  return fm.elidedText(scope, Qt::ElideMiddle, room - fm.horizontalAdvance(tail)) + tail + suffix;
}

QVariant GraphNodeItem::itemChange(GraphicsItemChange change, const QVariant& value) {
  if (change == ItemSelectedHasChanged) update();
  return QGraphicsItem::itemChange(change, value);
}
