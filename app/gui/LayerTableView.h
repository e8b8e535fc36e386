#pragma once
// The layer table's view: the numbers and choices take the width their text
// needs, the layer names the rest. When the dock is too narrow for that, the
// names keep a readable minimum (elided in the middle, whole in the tooltip)
// and the table scrolls sideways, rather than shrinking a name to "c…1".
#include <QTableView>

class LayerTableView : public QTableView {
  Q_OBJECT
 public:
  explicit LayerTableView(QWidget* parent = nullptr);
  void setModel(QAbstractItemModel* model) override;
  // The narrowest the name column gets: about 12 characters, or the widest
  // name when that is less (measured when the model's rows change, not on
  // every edit of their numbers).
  int nameColumnFloor() const { return nameFloor_; }

 protected:
  bool viewportEvent(QEvent* event) override;

 private:
  void measureNames();
  void fitNameColumn();
  int nameFloor_ = 0;
  bool fitting_ = false;
};
