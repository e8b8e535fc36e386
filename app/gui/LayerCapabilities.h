// What the engine accepts for one layer: which granularities (and N:M
// patterns) resolveRecipe/computeMasks take for it, and where bn_scale can
// rank it. Computed once when a model loads (LoadedModel, on the loader's
// thread) so the layer table offers only choices that preview without an
// error, and a global default a layer cannot take is shown as the fallback
// the engine applies to it (resolveRecipe's adaptDefault), not as an error.
#pragma once

#include <QString>
#include <QStringList>
#include <vector>

#include "topiary/dependency.h"
#include "topiary/graph.h"
#include "topiary/prune.h"

// The table's name for 2:4 over whole kernels.
inline const QString kNmKernelPattern = QStringLiteral("2:4 kernels");
// "2:4" -> n 2, m 4, per tap; "2:4 kernels" -> whole kernels. False when `choice` is no N:M pattern.
bool parseNmChoice(const QString& choice, int& n, int& m, bool& kernels);
QString nmChoiceName(int n, int m, bool kernels);

struct LayerCapabilities {
  // In PrunePlan::granularities() order; "nm" when at least one pattern fits.
  QStringList granularities;
  // N:M patterns ("2:4", "1:4", "4:8") with at least one complete group of M
  // along the layer's reduction length (input channels x kernel size); when
  // M does not divide it the last group of each row is shorter and keeps
  // min(N, its length), as the engine does. A Conv with a kernel over 1x1 and
  // at least 4 input channels also offers kNmKernelPattern: 2 whole kernels
  // kept of every 4 input channels (recipe "nm_pattern": "kernel").
  QStringList nmPatterns;
  // bn_scale ranks a group by its BatchNormalization scales: only groups that have one.
  bool bnScaleFilter = false;   // the group of the layer's filters / neurons
  bool bnScaleChannel = false;  // the group of its input channels
  // Why a granularity is not offered, for tooltips (granularity -> reason).
  QStringList unavailable;

  bool supports(const QString& granularity) const { return granularities.contains(granularity); }
  // The granularity the layer runs with when it inherits `globalGranularity`
  // (filter <-> neuron by operator, as the engine does), or "" when the
  // engine leaves the layer dense.
  QString inherited(const QString& globalGranularity) const;
  // A supported granularity closest to `wanted` (used when a layer gets its
  // own plan while the inherited one does not apply): structured stays
  // structured where possible, otherwise element.
  QString closest(const QString& wanted) const;
  // Criteria valid with `granularity` (bn_scale only on a group with a BatchNormalization).
  QStringList criteria(const QString& granularity) const;

  static LayerCapabilities compute(const topiary::Graph& graph, const std::string& node,
                                   const std::vector<topiary::PrunableLayer>& layers,
                                   const std::vector<topiary::DependencyGroup>& groups);
};
