#include "PrunePlan.h"

#include <QJsonArray>

QStringList PrunePlan::granularities() {
  return {"element", "nm", "kernel", "filter", "channel", "neuron", "layer"};
}
QStringList PrunePlan::criteria() { return {"l1", "l2", "taylor", "bn_scale", "random"}; }
QStringList PrunePlan::methods() { return {"magnitude", "admm", "dns"}; }
QStringList PrunePlan::schedules() { return {"one-shot", "iterative", "agp"}; }
// Names as topiary::storageFormatName spells them.
QStringList PrunePlan::storageFormats() {
  return {"dense", "bitmask", "csr", "relative_index", "nm", "structured"};
}

LayerPlan PrunePlan::layerPlan(const QString& layer) const {
  auto it = layers_.find(layer);
  if (it != layers_.end()) return *it;
  LayerPlan p;
  p.granularity = global_.granularity;
  p.criterion = global_.criterion;
  p.sparsity = global_.sparsity;
  return p;
}

void PrunePlan::setAllSparsity(double sparsity) {
  global_.sparsity = sparsity;
  for (auto it = layers_.begin(); it != layers_.end(); ++it)
    if (!it->locked) it->sparsity = sparsity;
}

QJsonObject PrunePlan::toRecipe() const {
  QJsonObject def{{"granularity", global_.granularity},
                  {"sparsity", global_.sparsity},
                  {"criterion", global_.criterion}};
  QJsonObject layers;
  for (auto it = layers_.begin(); it != layers_.end(); ++it) {
    const LayerPlan& p = *it;
    QJsonObject l{{"granularity", p.granularity}, {"criterion", p.criterion},
                  {"sparsity", p.locked ? 0.0 : p.sparsity}};
    if (p.granularity == "nm") {
      l["n"] = p.n;
      l["m"] = p.m;
      if (p.nmKernels) l["nm_pattern"] = "kernel";
      l.remove("sparsity");
    }
    if (p.locked) l["locked"] = true;
    layers[it.key()] = l;
  }
  QJsonObject recipe{{"default", def},
                     {"layers", layers},
                     {"method", global_.method},
                     {"ranking", global_.globalRanking ? "global" : "layer"}};
  QJsonObject schedule{{"kind", global_.schedule}};
  if (global_.schedule != "one-shot") schedule["steps"] = global_.scheduleSteps;
  recipe["schedule"] = schedule;
  if (global_.quantBits > 0) recipe["quantize"] = QJsonObject{{"bits", global_.quantBits}, {"per_channel", true}};
  return recipe;
}

namespace {

bool readPlanFields(const QJsonObject& o, const QString& where, QString& gran, QString& crit, double& sparsity,
                    QString* error) {
  if (o.contains("granularity")) {
    gran = o["granularity"].toString();
    if (!PrunePlan::granularities().contains(gran)) {
      if (error) *error = where + ".granularity: unknown value '" + gran + "'";
      return false;
    }
  }
  if (o.contains("criterion")) {
    crit = o["criterion"].toString();
    if (!PrunePlan::criteria().contains(crit)) {
      if (error) *error = where + ".criterion: unknown value '" + crit + "'";
      return false;
    }
  }
  if (o.contains("sparsity")) {
    sparsity = o["sparsity"].toDouble(-1);
    if (sparsity < 0 || sparsity >= 1) {
      if (error) *error = where + ".sparsity: must be a number in [0, 1)";
      return false;
    }
  }
  return true;
}

}  // namespace

bool PrunePlan::fromRecipe(const QJsonObject& recipe, PrunePlan& out, QString* error) {
  PrunePlan c;
  GlobalPlan g;
  const QJsonObject def = recipe["default"].toObject();
  if (!readPlanFields(def, "default", g.granularity, g.criterion, g.sparsity, error)) return false;
  g.globalRanking = recipe["ranking"].toString() == "global";
  if (recipe.contains("method")) {
    g.method = recipe["method"].toString();
    if (!methods().contains(g.method)) {
      if (error) *error = "method: unknown value '" + g.method + "'";
      return false;
    }
  }
  const QJsonObject sched = recipe["schedule"].toObject();
  if (sched.contains("kind")) {
    g.schedule = sched["kind"].toString();
    if (!schedules().contains(g.schedule)) {
      if (error) *error = "schedule.kind: unknown value '" + g.schedule + "'";
      return false;
    }
  }
  g.scheduleSteps = sched["steps"].toInt(g.scheduleSteps);
  if (recipe.contains("quantize")) {
    g.quantBits = recipe["quantize"].toObject()["bits"].toInt(0);
    if (g.quantBits < 1 || g.quantBits > 8) {
      if (error) *error = "quantize.bits: must be an integer in 1..8";
      return false;
    }
  }
  c.global_ = g;
  const QJsonObject layers = recipe["layers"].toObject();
  for (auto it = layers.begin(); it != layers.end(); ++it) {
    const QJsonObject o = it.value().toObject();
    LayerPlan p = c.layerPlan(it.key());
    if (!readPlanFields(o, "layers." + it.key(), p.granularity, p.criterion, p.sparsity, error)) return false;
    p.locked = o["locked"].toBool(false);
    p.n = o["n"].toInt(p.n);
    p.m = o["m"].toInt(p.m);
    p.nmKernels = o["nm_pattern"].toString() == "kernel";
    c.layers_[it.key()] = p;
  }
  out = c;
  return true;
}

QJsonObject PrunePlan::heldSparsities() const {
  QJsonObject held;
  for (auto it = layers_.begin(); it != layers_.end(); ++it)
    if (it->locked || it->granularity == "nm") held[it.key()] = it->sparsity;
  return held;
}

bool PrunePlan::restoreHeldSparsities(const QJsonObject& held, QString* error) {
  for (auto it = held.begin(); it != held.end(); ++it) {
    auto layer = layers_.find(it.key());
    const double s = it.value().toDouble(-1);
    if (layer == layers_.end() || s < 0 || s >= 1) {
      if (error)
        *error = layer == layers_.end() ? "held_sparsity." + it.key() + ": no such layer in the recipe"
                                        : "held_sparsity." + it.key() + ": must be a number in [0, 1)";
      return false;
    }
    layer->sparsity = s;
  }
  return true;
}
