#include "WeightsCommand.h"

#include "ModelDocument.h"

WeightsCommand::WeightsCommand(ModelDocument* doc, WeightsState before, WeightsState after, const QString& text)
    : doc_(doc), before_(std::move(before)), after_(std::move(after)) {
  setText(text);
}

void WeightsCommand::undo() { doc_->applyWeights(before_); }
void WeightsCommand::redo() { doc_->applyWeights(after_); }
