// The one undo command every user edit becomes: swap the whole (small)
// pruning configuration between `before` and `after`. Consecutive edits with
// the same merge key (e.g. dragging one layer's slider) collapse into one step.
#pragma once

#include <QString>
#include <QUndoCommand>

#include "PrunePlan.h"

class ModelDocument;

class PlanCommand : public QUndoCommand {
 public:
  PlanCommand(ModelDocument* doc, PrunePlan before, PrunePlan after, const QString& text,
                const QString& mergeKey = QString());

  void undo() override;
  void redo() override;
  int id() const override { return mergeKey_.isEmpty() ? -1 : 0x70c0; }
  bool mergeWith(const QUndoCommand* other) override;

 private:
  ModelDocument* doc_;
  PrunePlan before_;
  PrunePlan after_;
  QString mergeKey_;
};
