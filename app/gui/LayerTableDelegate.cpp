#include "LayerTableDelegate.h"

#include <QComboBox>
#include <QPainter>

#include "LayerTableModel.h"
#include "PrunePlan.h"
#include "SparsityEditor.h"

QWidget* LayerTableDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                                          const QModelIndex& index) const {
  switch (index.column()) {
    case LayerTableModel::Granularity: {
      // Only what the engine accepts for this layer (LayerCapabilities).
      auto* table = qobject_cast<const LayerTableModel*>(index.model());
      auto* c = new QComboBox(parent);
      c->addItems(table ? table->granularityChoices(index.row()) : PrunePlan::granularities());
      return c;
    }
    case LayerTableModel::Criterion: {
      auto* table = qobject_cast<const LayerTableModel*>(index.model());
      auto* c = new QComboBox(parent);
      c->addItems(table ? table->criterionChoices(index.row()) : PrunePlan::criteria());
      return c;
    }
    case LayerTableModel::Sparsity: {
      auto* e = new SparsityEditor(parent);
      // Commit while dragging: the preview follows the slider (the undo
      // commands of one drag merge into one step).
      connect(e, &SparsityEditor::valueChanged, this, [this, e] {
        emit const_cast<LayerTableDelegate*>(this)->commitData(e);
      });
      return e;
    }
    default: return QStyledItemDelegate::createEditor(parent, option, index);
  }
}

void LayerTableDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
  if (auto* c = qobject_cast<QComboBox*>(editor)) {
    QString v = index.data(Qt::DisplayRole).toString();
    int i = c->findText(v);
    c->setCurrentIndex(i < 0 ? 0 : i);
    return;
  }
  if (auto* e = qobject_cast<SparsityEditor*>(editor)) {
    if (qAbs(e->value() - index.data(Qt::EditRole).toDouble()) > 1e-9) e->setValue(index.data(Qt::EditRole).toDouble());
    return;
  }
  QStyledItemDelegate::setEditorData(editor, index);
}

void LayerTableDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const {
  if (auto* c = qobject_cast<QComboBox*>(editor)) {
    model->setData(index, c->currentText());
    return;
  }
  if (auto* e = qobject_cast<SparsityEditor*>(editor)) {
    model->setData(index, e->value());
    return;
  }
  QStyledItemDelegate::setModelData(editor, model, index);
}

void LayerTableDelegate::destroyEditor(QWidget* editor, const QModelIndex& index) const {
  if (auto* table = qobject_cast<const LayerTableModel*>(index.model())) table->endEditGesture();
  QStyledItemDelegate::destroyEditor(editor, index);
}

void LayerTableDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  if (index.column() != LayerTableModel::Sparsity) {
    QStyledItemDelegate::paint(painter, option, index);
    return;
  }
  // A bar under the percentage makes the table readable at a glance.
  QStyleOptionViewItem opt = option;
  initStyleOption(&opt, index);
  // The bar is what the layer has (the preview's measured zeros), the text
  // says the target too when the two differ ("50→75%").
  const double s = index.data(LayerTableModel::AchievedSparsityRole).toDouble();
  painter->save();
  if (opt.state & QStyle::State_Selected) painter->fillRect(opt.rect, opt.palette.highlight());
  QRect bar = opt.rect.adjusted(3, 4, -3, -4);
  painter->setPen(Qt::NoPen);
  painter->setBrush(QColor(230, 230, 230));
  painter->drawRect(bar);
  painter->setBrush(QColor(214, 80, 60));
  const QRect filled(bar.left(), bar.top(), int(bar.width() * s), bar.height());
  painter->drawRect(filled);
  // White over the red part, black over the grey: legible wherever the bar ends.
  const QRect textRect = bar.adjusted(0, 0, -3, 0);
  painter->setClipRect(filled);
  painter->setPen(Qt::white);
  painter->drawText(textRect, Qt::AlignRight | Qt::AlignVCenter, opt.text);
  painter->setClipRect(bar.adjusted(filled.width(), 0, 0, 0));
  painter->setPen(Qt::black);
  painter->drawText(textRect, Qt::AlignRight | Qt::AlignVCenter, opt.text);
  painter->restore();
}

QSize LayerTableDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QSize s = QStyledItemDelegate::sizeHint(option, index);
  // Room for the widest label ("50→75%") whatever the rows say now, so the
  // column does not jump as the preview's numbers arrive.
  if (index.column() == LayerTableModel::Sparsity)
    s.setWidth(qMax(s.width(), option.fontMetrics.horizontalAdvance(QStringLiteral("00\u219200%")) + 14));
  return s;
}

void LayerTableDelegate::updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                                              const QModelIndex& index) const {
  QStyledItemDelegate::updateEditorGeometry(editor, option, index);
  // The columns are only as wide as their text: an editor wider than its cell
  // (the sparsity slider and spin box) lies over its neighbours while it is
  // open, kept inside the table.
  const int want = editor->sizeHint().width();
  if (want <= editor->width()) return;
  QRect r = editor->geometry();
  r.setWidth(want);
  if (const QWidget* area = editor->parentWidget()) {
    if (r.right() > area->width() - 1) r.moveRight(area->width() - 1);
    if (r.left() < 0) r.moveLeft(0);
  }
  editor->setGeometry(r);
}
