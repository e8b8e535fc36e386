#include "LayerTableView.h"

#include <QEvent>
#include <QHeaderView>
#include <QStyle>
#include <algorithm>

#include "LayerTableModel.h"

LayerTableView::LayerTableView(QWidget* parent) : QTableView(parent) {
  setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
  QHeaderView* header = horizontalHeader();
  header->setMinimumSectionSize(24);
  header->setSectionResizeMode(QHeaderView::ResizeToContents);
  header->setStretchLastSection(false);
  // Another column grew or shrank with its contents: the names take the rest.
  connect(header, &QHeaderView::sectionResized, this, [this](int logical, int, int) {
    if (logical != LayerTableModel::Name) fitNameColumn();
  });
}

void LayerTableView::setModel(QAbstractItemModel* m) {
  QTableView::setModel(m);
  if (!m || m->columnCount() <= LayerTableModel::Name) return;
  horizontalHeader()->setSectionResizeMode(LayerTableModel::Name, QHeaderView::Fixed);
  connect(m, &QAbstractItemModel::modelReset, this, &LayerTableView::fitNameColumn);
  connect(m, &QAbstractItemModel::layoutChanged, this, &LayerTableView::fitNameColumn);
  fitNameColumn();
}

int LayerTableView::nameColumnFloor() const {
  const QFontMetrics fm(font());
  const int margin = 2 * style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, this) + 8;
  int widest =
      fm.horizontalAdvance(model() ? model()->headerData(LayerTableModel::Name, Qt::Horizontal).toString() : QString());
  if (model())
    for (int r = 0; r < model()->rowCount(); ++r)
      widest = std::max(widest, fm.horizontalAdvance(model()->index(r, LayerTableModel::Name).data().toString()));
  return std::min(widest, 12 * fm.averageCharWidth()) + margin;
}

bool LayerTableView::viewportEvent(QEvent* event) {
  // The viewport also narrows when the vertical scrollbar appears.
  if (event->type() == QEvent::Resize) fitNameColumn();
  return QTableView::viewportEvent(event);
}

void LayerTableView::fitNameColumn() {
  if (fitting_ || !model()) return;
  fitting_ = true;
  QHeaderView* header = horizontalHeader();
  int others = 0;
  for (int c = 0; c < header->count(); ++c)
    if (c != LayerTableModel::Name && !header->isSectionHidden(c)) others += header->sectionSize(c);
  header->resizeSection(LayerTableModel::Name, std::max(viewport()->width() - others, nameColumnFloor()));
  fitting_ = false;
}
