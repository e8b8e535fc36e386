// One operator (or graph input/output) in the layer graph. Painted by hand
// and cached as an item-coordinate pixmap, so panning a 500-node graph only
// blits; the cache is invalidated when sparsity or highlight change.
#pragma once

#include <QColor>
#include <QGraphicsItem>
#include <QString>

class GraphNodeItem : public QGraphicsItem {
 public:
  enum class Kind { Operator, Input, Output };
  static constexpr double kWidth = 150;
  static constexpr double kHeight = 40;

  GraphNodeItem(const QString& name, const QString& op, Kind kind);

  const QString& name() const { return name_; }
  const QString& op() const { return op_; }
  Kind kind() const { return kind_; }
  bool prunable() const { return prunable_; }
  void setPrunable(bool p) { prunable_ = p; }

  void setSparsity(double s);  // 0..1, shades the node
  double sparsity() const { return sparsity_; }
  void setHighlighted(bool h);  // member of the selected dependency group
  bool highlighted() const { return highlighted_; }
  void setDetail(const QString& detail);  // second line, e.g. weight shape

  static QColor colorForOp(const QString& op);
  // The second line as painted in `font` (the 7.5 pt label font): an
  // operator's name, elided to the node's width, then its sparsity whole;
  // an input's or output's detail.
  QString secondLine(const QFont& font) const;

  QRectF boundingRect() const override;
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

 protected:
  QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

 private:
  QString name_;
  QString op_;
  QString detail_;
  Kind kind_;
  bool prunable_ = false;
  double sparsity_ = 0;
  bool highlighted_ = false;
};
