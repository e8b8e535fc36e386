// A slider and a spin box bound together: the sparsity editor used inside
// the layer table and for the global "all layers" control. Emits
// valueChanged(fraction) while the slider moves, so the preview follows live.
#pragma once

#include <QWidget>

class QSlider;
class QDoubleSpinBox;

class SparsityEditor : public QWidget {
  Q_OBJECT
 public:
  explicit SparsityEditor(QWidget* parent = nullptr);
  double value() const;  // 0..1
  void setValue(double fraction);

 signals:
  void valueChanged(double fraction);
  // The slider was released or the number entered: one edit ends.
  void editingFinished();

 private:
  QSlider* slider_;
  QDoubleSpinBox* spin_;
};
