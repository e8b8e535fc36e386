#pragma once
// A status-bar label for something that must stay in view while the engine
// status beside it changes with every preview (a failing autosave, a model's
// load warnings): a short text, elided, with the whole story in its tooltip;
// hidden when there is nothing to say.
#include <QLabel>

class NoticeLabel : public QLabel {
  Q_OBJECT
 public:
  NoticeLabel(const QString& objectName, const QString& color, QWidget* parent);
  // An empty text hides the label.
  void setNotice(const QString& text, const QString& detail);
  // The detail while the label is shown, else empty.
  QString detail() const { return isHidden() ? QString() : toolTip(); }
};
