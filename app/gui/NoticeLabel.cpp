#include "NoticeLabel.h"

NoticeLabel::NoticeLabel(const QString& objectName, const QString& color, QWidget* parent) : QLabel(parent) {
  setObjectName(objectName);
  setStyleSheet(QString("QLabel { color: %1; }").arg(color));
  hide();
}

void NoticeLabel::setNotice(const QString& text, const QString& detail) {
  setText(fontMetrics().elidedText(text, Qt::ElideRight, 360));
  setToolTip(detail);
  setVisible(!text.isEmpty());
}
