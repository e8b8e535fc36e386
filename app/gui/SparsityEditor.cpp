#include "SparsityEditor.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QSlider>

SparsityEditor::SparsityEditor(QWidget* parent) : QWidget(parent) {
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setRange(0, 99);  // recipes take sparsity in [0, 1)
  slider_->setToolTip(tr("Fraction of the layer's units to prune"));
  spin_ = new QDoubleSpinBox(this);
  spin_->setRange(0, 99);
  spin_->setDecimals(1);
  spin_->setSuffix("%");
  spin_->setSingleStep(5);
  auto* lay = new QHBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->setSpacing(4);
  lay->addWidget(slider_, 1);
  lay->addWidget(spin_);
  setAutoFillBackground(true);
  setFocusProxy(spin_);
  connect(slider_, &QSlider::valueChanged, this, [this](int v) {
    if (qRound(spin_->value()) == v) return;
    QSignalBlocker b(spin_);
    spin_->setValue(v);
    emit valueChanged(v / 100.0);
  });
  connect(slider_, &QSlider::sliderReleased, this, &SparsityEditor::editingFinished);
  connect(spin_, &QDoubleSpinBox::editingFinished, this, &SparsityEditor::editingFinished);
  connect(spin_, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    QSignalBlocker b(slider_);
    slider_->setValue(qRound(v));
    emit valueChanged(v / 100.0);
  });
}

double SparsityEditor::value() const { return spin_->value() / 100.0; }

void SparsityEditor::setValue(double fraction) {
  QSignalBlocker a(slider_), b(spin_);
  spin_->setValue(fraction * 100.0);
  slider_->setValue(qRound(fraction * 100.0));
}
