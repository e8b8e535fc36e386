#include "ModelDocument.h"

#include "PlanCommand.h"
#include "WeightsCommand.h"

ModelDocument::ModelDocument(QObject* parent) : QObject(parent) {}

void ModelDocument::setModel(std::shared_ptr<const LoadedModel> model) {
  model_ = std::move(model);
  undo_.clear();
  plan_ = PrunePlan();
  preview_ = PreviewResult();
  baseline_ = PreviewResult();
  tried_.clear();
  weightsModified_ = false;
  emit modelChanged();
  emit planChanged();
  emit previewChanged();
  emit triedChanged();
}

QString ModelDocument::mergeKey(const QString& control) const { return control + "#" + QString::number(gesture_); }

void ModelDocument::editLayerPlan(const QString& layer, const LayerPlan& plan, const QString& what) {
  PrunePlan next = plan_;
  next.setPlan(layer, plan);
  if (next == plan_) return;
  undo_.push(new PlanCommand(this, plan_, next, what, mergeKey("layer:" + layer + ":" + what)));
}

void ModelDocument::editGlobal(const GlobalPlan& plan, const QString& what) {
  PrunePlan next = plan_;
  next.setGlobal(plan);
  if (next == plan_) return;
  undo_.push(new PlanCommand(this, plan_, next, what, mergeKey("global:" + what)));
}

void ModelDocument::editAllSparsity(double sparsity) {
  PrunePlan next = plan_;
  next.setAllSparsity(sparsity);
  if (next == plan_) return;
  undo_.push(new PlanCommand(this, plan_, next, tr("Set all sparsities"), mergeKey("all-sparsity")));
}

void ModelDocument::restorePlan(const PrunePlan& plan, const QString& what) {
  if (plan == plan_) return;
  undo_.push(new PlanCommand(this, plan_, plan, what));
}

void ModelDocument::applyPlan(const PrunePlan& plan) {
  if (plan == plan_) return;
  plan_ = plan;
  emit planChanged();
}

void ModelDocument::setPreview(const PreviewResult& r) {
  if (!r.ok) {
    preview_ = r;
    emit previewChanged();
    return;
  }
  preview_ = r;
  // A tried point holds the accuracy on all validation images, not an estimate.
  if (r.accuracyValid && !r.estimate) {
    bool seen = false;
    for (const TriedPoint& p : tried_) seen = seen || p.plan == r.plan;
    if (!seen) {
      tried_.push_back({r.plan, r.accuracy, r.storageBytes, r.latencyMs});
      emit triedChanged();
    }
  }
  emit previewChanged();
}

void ModelDocument::setBaseline(const PreviewResult& r) {
  baseline_ = r;
  emit previewChanged();
}

void ModelDocument::setTried(const QVector<TriedPoint>& t) {
  tried_ = t;
  emit triedChanged();
}

void ModelDocument::replaceWeights(std::shared_ptr<const LoadedModel> model, const QString& what) {
  // Points measured on the old weights are not comparable with the new ones;
  // the baseline stays the original model's. Undo brings both back.
  WeightsState before{model_, tried_, weightsModified_};
  WeightsState after{std::move(model), {}, true};
  undo_.push(new WeightsCommand(this, before, after, what));
}

void ModelDocument::applyWeights(const WeightsState& s) {
  model_ = s.model;
  weightsModified_ = s.modified;
  tried_ = s.tried;
  emit weightsChanged();
  emit triedChanged();
}
