#include "LayerCapabilities.h"

#include <QObject>

#include "PrunePlan.h"

QString LayerCapabilities::inherited(const QString& g) const {
  if (supports(g)) return g;
  // The default's "filter" means neurons on a Gemm and the other way round.
  if (g == "filter" && supports("neuron")) return "neuron";
  if (g == "neuron" && supports("filter")) return "filter";
  // An inherited N:M pattern runs on any layer (a short last group keeps min(n, len)).
  if (g == "nm" && supports("element")) return "nm";
  return {};
}

QString LayerCapabilities::closest(const QString& wanted) const {
  QString g = inherited(wanted);
  if (!g.isEmpty() && g != "layer") return g;
  if (wanted == "filter" || wanted == "channel" || wanted == "neuron")
    for (const char* s : {"filter", "neuron", "channel"})
      if (supports(s)) return s;
  return supports("element") ? "element" : QString();
}

QStringList LayerCapabilities::criteria(const QString& granularity) const {
  QStringList out;
  for (const QString& c : PrunePlan::criteria()) {
    if (c == "bn_scale") {
      const bool ok = ((granularity == "filter" || granularity == "neuron") && bnScaleFilter) ||
                      (granularity == "channel" && bnScaleChannel);
      if (!ok) continue;
    }
    out << c;
  }
  return out;
}

LayerCapabilities LayerCapabilities::compute(const topiary::Graph& graph, const std::string& node,
                                             const std::vector<topiary::PrunableLayer>& layers,
                                             const std::vector<topiary::DependencyGroup>& groups) {
  LayerCapabilities caps;
  const topiary::PrunableLayer* L = topiary::findPrunableLayer(layers, node);
  if (!L) {
    caps.unavailable << QObject::tr("no prunable weight the engine recognises (a Conv, Gemm or MatMul weight)");
    return caps;
  }
  const bool conv = L->op == "Conv";
  const int64_t reduction = L->inUnits * L->kernelSize;
  for (const char* p : {"2:4", "1:4", "4:8"}) {
    const int m = QString(p).section(':', 1).toInt();
    if (reduction >= m) caps.nmPatterns << p;
  }
  // Whole kernels, 2 of every 4 input channels: the pattern the 2:4 Winograd
  // kernel runs (needs 4 input channels per group and a kernel over 1x1).
  if (conv && L->kernelSize > 1 && L->inUnits >= 4) caps.nmPatterns << kNmKernelPattern;
  // A group granularity needs an unlocked group (the logits' neurons are
  // locked: the graph output must keep its width).
  auto groupState = [&](int gi, QString& why) -> const topiary::DependencyGroup* {
    if (gi < 0) {
      why = QObject::tr("no dependency group carries its channels");
      return nullptr;
    }
    const auto& g = groups[static_cast<size_t>(gi)];
    if (g.locked) {
      why = QString::fromStdString(g.lockReason);
      return nullptr;
    }
    return &g;
  };
  QString why;
  const topiary::DependencyGroup* out = groupState(topiary::groupProducedBy(groups, L->node), why);
  const QString outWhy = why;
  why.clear();
  const topiary::DependencyGroup* in =
      conv ? groupState(topiary::groupConsumedBy(groups, graph, L->node), why) : nullptr;
  const QString inWhy = conv ? why : QObject::tr("channel pruning applies to Conv layers");
  caps.bnScaleFilter = out && topiary::groupHasBatchNorm(graph, *out);
  caps.bnScaleChannel = in && topiary::groupHasBatchNorm(graph, *in);

  for (const QString& g : PrunePlan::granularities()) {
    QString reason;
    if (g == "nm" && caps.nmPatterns.isEmpty())
      reason = QObject::tr("each output reduces over %1 weights, fewer than one group of 4").arg(reduction);
    else if (g == "kernel" && !(conv && L->kernelSize > 1))
      reason = QObject::tr("needs a Conv with a kernel larger than 1x1");
    else if (g == "filter" && !(conv && out))
      reason = conv ? outWhy : QObject::tr("a %1 has neurons, not filters").arg(QString::fromStdString(L->op));
    else if (g == "neuron" && !(!conv && out))
      reason = conv ? QObject::tr("a Conv has filters, not neurons") : outWhy;
    else if (g == "channel" && !in)
      reason = inWhy;
    else if (g == "layer") {
      topiary::Status st = topiary::checkLayerRemoval(graph, L->node);
      if (!st) reason = QString::fromStdString(st.message());
    }
    if (reason.isEmpty()) caps.granularities << g;
    else caps.unavailable << g + ": " + reason;
  }
  return caps;
}

bool parseNmChoice(const QString& choice, int& n, int& m, bool& kernels) {
  kernels = choice.endsWith(QStringLiteral(" kernels"));
  const QString pattern = kernels ? choice.chopped(8) : choice;
  if (!pattern.contains(':')) return false;
  bool okN = false, okM = false;
  n = pattern.section(':', 0, 0).toInt(&okN);
  m = pattern.section(':', 1, 1).toInt(&okM);
  return okN && okM;
}

QString nmChoiceName(int n, int m, bool kernels) {
  return QString("%1:%2%3").arg(n).arg(m).arg(kernels ? QStringLiteral(" kernels") : QString());
}
