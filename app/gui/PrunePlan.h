// What the user has chosen to prune: global settings plus per-layer plans.
// Plain value type (copyable, comparable) so undo commands, the preview
// worker and session files can each hold their own copy. Converts to and
// from the recipe JSON of the design (the CLI's `prune --recipe`).
#pragma once

#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

struct LayerPlan {
  QString granularity = "filter";  // element | nm | kernel | filter | channel | neuron | layer
  QString criterion = "l1";        // l1 | l2 | taylor | bn_scale | random
  double sparsity = 0.0;           // [0, 1) of the layer's prunable units
  bool locked = false;             // locked layers keep their weights (sparsity forced to 0)
  int n = 2, m = 4;                // N:M pattern when granularity == "nm"
  bool nmKernels = false;          // N:M over whole kernels (recipe "nm_pattern": "kernel"), else per tap

  bool operator==(const LayerPlan& o) const {
    return granularity == o.granularity && criterion == o.criterion && qFuzzyCompare(1 + sparsity, 1 + o.sparsity) &&
           locked == o.locked && n == o.n && m == o.m &&
           nmKernels == o.nmKernels;
  }
  bool operator!=(const LayerPlan& o) const { return !(*this == o); }
};

struct GlobalPlan {
  QString granularity = "filter";
  QString criterion = "l1";
  double sparsity = 0.0;      // applied to layers that have no own plan
  bool globalRanking = false; // rank units across layers instead of per layer
  QString method = "magnitude";  // magnitude | admm | dns
  QString schedule = "one-shot"; // one-shot | iterative | agp
  int scheduleSteps = 5;
  int quantBits = 0;          // 0: no quantization, else 1..8
  QString storage = "dense";  // how the size is counted (storage.h): dense | bitmask | csr | relative_index | nm | structured

  bool operator==(const GlobalPlan& o) const {
    return granularity == o.granularity && criterion == o.criterion && qFuzzyCompare(1 + sparsity, 1 + o.sparsity) &&
           globalRanking == o.globalRanking && method == o.method && schedule == o.schedule &&
           scheduleSteps == o.scheduleSteps && quantBits == o.quantBits && storage == o.storage;
  }
  bool operator!=(const GlobalPlan& o) const { return !(*this == o); }
};

class PrunePlan {
 public:
  static QStringList granularities();
  static QStringList criteria();
  static QStringList methods();
  static QStringList schedules();
  static QStringList storageFormats();

  const GlobalPlan& global() const { return global_; }
  void setGlobal(const GlobalPlan& g) { global_ = g; }

  // The plan a layer runs with: its own when set, otherwise the global one.
  LayerPlan layerPlan(const QString& layer) const;
  bool hasOwnPlan(const QString& layer) const { return layers_.contains(layer); }
  void setPlan(const QString& layer, const LayerPlan& p) { layers_[layer] = p; }
  void clearPlan(const QString& layer) { layers_.remove(layer); }
  const QMap<QString, LayerPlan>& ownPlans() const { return layers_; }
  // Sets every unlocked layer to `sparsity` (the "one sparsity for all" control).
  void setAllSparsity(double sparsity);

  // Recipe JSON (design.md): default, layers, method, schedule, quantize.
  QJsonObject toRecipe() const;
  // Parses a recipe; on error returns false and names the offending key.
  static bool fromRecipe(const QJsonObject& recipe, PrunePlan& out, QString* error);
  // The recipe says what gets pruned: 0 for a locked layer, no sparsity for
  // an N:M one. The sparsity such a layer holds (back on unlock or on another
  // granularity) is kept here, by layer name, so that a session reopens the
  // plan it saved; restoreHeldSparsities() puts them back after fromRecipe.
  QJsonObject heldSparsities() const;
  bool restoreHeldSparsities(const QJsonObject& held, QString* error);

  bool operator==(const PrunePlan& o) const { return global_ == o.global_ && layers_ == o.layers_; }
  bool operator!=(const PrunePlan& o) const { return !(*this == o); }

 private:
  GlobalPlan global_;
  QMap<QString, LayerPlan> layers_;
};
