#include "PlanCommand.h"

#include "ModelDocument.h"

PlanCommand::PlanCommand(ModelDocument* doc, PrunePlan before, PrunePlan after, const QString& text,
                             const QString& mergeKey)
    : doc_(doc), before_(std::move(before)), after_(std::move(after)), mergeKey_(mergeKey) {
  setText(text);
}

void PlanCommand::undo() { doc_->applyPlan(before_); }
void PlanCommand::redo() { doc_->applyPlan(after_); }

bool PlanCommand::mergeWith(const QUndoCommand* other) {
  auto* o = static_cast<const PlanCommand*>(other);
  if (o->mergeKey_ != mergeKey_ || mergeKey_.isEmpty()) return false;
  after_ = o->after_;
  setText(o->text());
  // Dragged back to where it started: no step at all (QUndoStack drops an
  // obsolete command, so Ctrl+Z undoes the edit before it, not nothing).
  setObsolete(after_ == before_);
  return true;
}
