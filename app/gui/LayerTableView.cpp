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
  // The names change only with the rows; edits of the numbers just refit.
  connect(m, &QAbstractItemModel::modelReset, this, &LayerTableView::measureNames);
  connect(m, &QAbstractItemModel::layoutChanged, this, &LayerTableView::measureNames);
  connect(m, &QAbstractItemModel::rowsInserted, this, &LayerTableView::measureNames);
  connect(m, &QAbstractItemModel::rowsRemoved, this, &LayerTableView::measureNames);
  measureNames();
}

void LayerTableView::measureNames() {
  const QFontMetrics fm(font());
  const int margin = 2 * style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, this) + 8;
  int widest = fm.horizontalAdvance(model()->headerData(LayerTableModel::Name, Qt::Horizontal).toString());
  for (int r = 0; r < model()->rowCount(); ++r)
    widest = std::max(widest, fm.horizontalAdvance(model()->index(r, LayerTableModel::Name).data().toString()));
  nameFloor_ = std::min(widest, 12 * fm.averageCharWidth()) + margin;
  fitNameColumn();
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
