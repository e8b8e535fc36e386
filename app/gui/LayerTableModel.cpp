#include "LayerTableModel.h"

#include <QBrush>
#include <QColor>
#include <QFont>

#include "ModelDocument.h"
#include "topiary/dependency.h"

LayerTableModel::LayerTableModel(ModelDocument* doc, QObject* parent) : QAbstractTableModel(parent), doc_(doc) {
  connect(doc, &ModelDocument::modelChanged, this, [this] {
    beginResetModel();
    endResetModel();
  });
  connect(doc, &ModelDocument::planChanged, this, &LayerTableModel::refreshAll);
  connect(doc, &ModelDocument::previewChanged, this, &LayerTableModel::refreshAll);
}

void LayerTableModel::refreshAll() {
  if (rowCount() > 0) emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

int LayerTableModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !doc_->hasModel()) return 0;
  return doc_->model()->layers.size();
}

int LayerTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString LayerTableModel::layerAt(int row) const {
  if (!doc_->hasModel() || row < 0 || row >= rowCount()) return {};
  return doc_->model()->layers[row].name;
}

int LayerTableModel::rowOf(const QString& layer) const {
  return doc_->hasModel() ? doc_->model()->layerIndex(layer) : -1;
}

QStringList LayerTableModel::granularityChoices(int row) const {
  if (!doc_->hasModel() || row < 0 || row >= rowCount()) return {};
  const LayerCapabilities& caps = doc_->model()->layers[row].caps;
  QStringList out;
  for (const QString& g : caps.granularities) {
    if (g == "nm") out << caps.nmPatterns;
    else out << g;
  }
  return out;
}

QStringList LayerTableModel::criterionChoices(int row) const {
  if (!doc_->hasModel() || row < 0 || row >= rowCount()) return {};
  const QString g = effectiveGranularity(row);
  return doc_->model()->layers[row].caps.criteria(g.isEmpty() ? "element" : g);
}

QString LayerTableModel::effectiveGranularity(int row) const {
  if (!doc_->hasModel() || row < 0 || row >= rowCount()) return {};
  const LayerInfo& li = doc_->model()->layers[row];
  const LayerPlan plan = doc_->plan().layerPlan(li.name);
  if (doc_->plan().hasOwnPlan(li.name)) return plan.granularity;
  return li.caps.inherited(plan.granularity);
}

QString LayerTableModel::coupledWhy(int row) const {
  const LoadedModel& m = *doc_->model();
  const LayerInfo& li = m.layers[row];
  // The layers whose filters/neurons are this layer's input channels: pruning
  // them removes the matching input slices here (one dependency group).
  const int gi = topiary::groupConsumedBy(m.groups, *m.graph, li.name.toStdString());
  QStringList producers;
  if (gi >= 0)
    for (const auto& p : m.groups[static_cast<size_t>(gi)].producers) producers << QString::fromStdString(p);
  if (producers.isEmpty()) return tr("its own pruning and the preview's counts differ (rounding, N:M groups)");
  return tr("its input channels go with the filters/neurons %1 prunes (one dependency group), besides its own "
            "pruning")
      .arg(producers.join(", "));
}

QString LayerTableModel::formatCount(double v) {
  if (v >= 1e9) return QString::number(v / 1e9, 'f', 2) + "G";
  if (v >= 1e6) return QString::number(v / 1e6, 'f', 2) + "M";
  if (v >= 1e4) return QString::number(v / 1e3, 'f', 1) + "k";
  return QString::number(qint64(v));
}

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const LayerInfo& li = doc_->model()->layers[index.row()];
  const LayerPlan plan = doc_->plan().layerPlan(li.name);
  const PreviewResult& pv = doc_->preview();
  const bool measured = pv.ok && pv.layerNonzeros.contains(li.name);
  const qint64 weightCount = topiary::numelOf(li.weightShape);
  const double achieved = measured ? pv.layerSparsity.value(li.name) : 0.0;
  // The layer's own granularity ("" when the default does not apply to it)
  // and what the preview measured: a layer can lose weights it was not asked
  // to (the input columns of a Gemm after the one before it lost neurons),
  // so the label says the measured sparsity whenever it differs from the
  // target, as the graph and the nonzero counts do.
  const QString ownGranularity = effectiveGranularity(index.row());
  // Until the preview of the current plan arrives the label and bar show the target alone.
  const bool current = measured && pv.plan == doc_->plan();
  const bool coupledOnly = ownGranularity.isEmpty() && current && achieved > 0;
  const int targetPct = plan.locked || ownGranularity.isEmpty() ? 0 : qRound(plan.sparsity * 100);
  const int achievedPct = qRound(achieved * 100);
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case Name: return li.name;
        case Op: return li.op;
        case Granularity: {
          const QString& g = ownGranularity;
          // The default does not apply to this layer: dense, unless a coupled
          // layer's structured pruning removed some of its input channels.
          if (g.isEmpty()) return coupledOnly ? tr("coupled") : tr("dense");
          return g == "nm" ? nmChoiceName(plan.n, plan.m, plan.nmKernels) : g;
        }
        case Criterion: return plan.criterion;
        case Sparsity:
          // A layer the default does not apply to is not pruned by its own plan.
          if (ownGranularity.isEmpty()) return coupledOnly ? QString("%1%").arg(achievedPct) : QStringLiteral("\u2014");
          if (current && achievedPct != targetPct) return QString("%1\u2192%2%").arg(targetPct).arg(achievedPct);
          return QString("%1%").arg(targetPct);
        case Params: return formatCount(double(li.params));
        case Nonzeros: return formatCount(measured ? double(pv.layerNonzeros.value(li.name)) : double(li.params));
        case Flops:
          return doc_->model()->metricsValid ? formatCount(li.flops * (1.0 - achieved)) : QStringLiteral("-");
        default: return {};
      }
    case Qt::EditRole:
      switch (index.column()) {
        case Granularity: return effectiveGranularity(index.row());
        case Criterion: return plan.criterion;
        case Sparsity: return plan.sparsity;
        case Params: return li.params;
        case Nonzeros: return measured ? pv.layerNonzeros.value(li.name) : li.params;
        case Flops: return li.flops * (1.0 - achieved);
        default: return data(index, Qt::DisplayRole);
      }
    case AchievedSparsityRole:
      // The fraction of zero weights the preview measured, else the target.
      if (current) return achieved;
      return ownGranularity.isEmpty() || plan.locked ? 0.0 : plan.sparsity;
    case Qt::CheckStateRole:
      if (index.column() == Lock) return plan.locked ? Qt::Checked : Qt::Unchecked;
      return {};
    case Qt::ToolTipRole:
      if (index.column() == Name || index.column() == Op)
        return QString("%1 (%2)\nweight %3: %4\noutput %5")
            .arg(li.name, li.op, li.weight, QString::fromStdString(topiary::shapeToString(li.weightShape)),
                 li.outputShape);
      if (index.column() == Sparsity && current && (coupledOnly || achievedPct != targetPct))
        return tr("Target %1%; %2% of its weights are zero: %3")
            .arg(targetPct)
            .arg(achieved * 100, 0, 'f', 1)
            .arg(coupledWhy(index.row()));
      if (index.column() == Granularity) {
        QString tip;
        if (coupledOnly) tip = coupledWhy(index.row()) + "\n";
        if (ownGranularity.isEmpty())
          tip = tr("The default granularity '%1' does not apply to this layer; it stays dense unless you choose "
                   "its own granularity.\n")
                    .arg(plan.granularity);
        if (!li.caps.unavailable.isEmpty()) tip += tr("Not available here:\n") + li.caps.unavailable.join('\n');
        return tip.isEmpty() ? QVariant() : QVariant(tip);
      }
      if (index.column() == Nonzeros && measured)
        return QString("%1 of %2 weights pruned (%3%)")
            .arg(weightCount - (pv.layerNonzeros.value(li.name) - (li.params - weightCount)))
            .arg(weightCount)
            .arg(achieved * 100, 0, 'f', 1);
      return {};
    case Qt::TextAlignmentRole:
      if (index.column() >= Sparsity && index.column() != Lock) return int(Qt::AlignRight | Qt::AlignVCenter);
      return {};
    case Qt::FontRole:
      if (index.column() == Granularity && effectiveGranularity(index.row()).isEmpty()) {
        QFont f;
        f.setItalic(true);
        return f;
      }
      return {};
    case Qt::ForegroundRole:
      if (!doc_->plan().hasOwnPlan(li.name) && (index.column() >= Granularity && index.column() <= Sparsity))
        return QBrush(QColor(110, 110, 110));  // inherited from the global settings
      return {};
    default: return {};
  }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  // Short names, so that every column fits a narrow dock; the tooltips say them whole.
  static const char* names[] = {"Layer", "Op", "Gran.", "Crit.", "Sparsity", "Lock", "Params", "Nonzero", "FLOPs"};
  if (role == Qt::DisplayRole && section >= 0 && section < ColumnCount) return tr(names[section]);
  if (role != Qt::ToolTipRole) return {};
  switch (section) {
    case Name:
      return tr("Layer (node) name");
    case Op:
      return tr("ONNX operator");
    case Granularity:
      return tr("Granularity: what is pruned (element, N:M, kernel, filter/neuron, channel, layer)");
    case Criterion:
      return tr("Criterion: how the units to prune are ranked (l1, l2, taylor, bn_scale, random)");
    case Sparsity:
      return tr("Sparsity: target fraction of the layer's weights to prune, and what the preview measured");
    case Lock:
      return tr("Locked layers are never pruned");
    case Params:
      return tr("Parameters (weights and biases)");
    case Nonzeros:
      return tr("Nonzero parameters after pruning");
    case Flops:
      return tr("FLOPs at batch 1, scaled by the layer's density");
    default:
      return {};
  }
}

Qt::ItemFlags LayerTableModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
  const bool prunable = doc_->hasModel() && index.row() < rowCount() &&
                        !doc_->model()->layers[index.row()].caps.granularities.isEmpty();
  if (!prunable) return f;
  switch (index.column()) {
    case Granularity:
    case Criterion:
    case Sparsity: return f | Qt::ItemIsEditable;
    case Lock: return f | Qt::ItemIsUserCheckable;
    default: return f;
  }
}

void LayerTableModel::endEditGesture() const { doc_->endEditGesture(); }

bool LayerTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || index.row() >= rowCount()) return false;
  const QString layer = layerAt(index.row());
  const LayerCapabilities& caps = doc_->model()->layers[index.row()].caps;
  if (caps.granularities.isEmpty()) return false;
  LayerPlan plan = doc_->plan().layerPlan(layer);
  // A layer's own plan is explicit in the recipe, where a granularity the
  // layer cannot take is an error (the default's is adapted or skipped):
  // start from the closest one it can take ("filter" on a Gemm: neurons).
  if (!doc_->plan().hasOwnPlan(layer)) {
    plan.granularity = caps.closest(plan.granularity);
    if (plan.granularity == "nm" && !caps.nmPatterns.contains(nmChoiceName(plan.n, plan.m, plan.nmKernels)))
      plan.granularity = "element";
  }
  auto fixCriterion = [&] {
    if (!caps.criteria(plan.granularity).contains(plan.criterion)) plan.criterion = "l1";
  };
  QString what;
  switch (index.column()) {
    case Granularity: {
      QString g = value.toString();
      if (g.contains(':')) {  // "2:4" means N:M per tap, "2:4 kernels" over whole kernels
        if (!caps.nmPatterns.contains(g) || !parseNmChoice(g, plan.n, plan.m, plan.nmKernels)) return false;
        g = "nm";
      }
      // "filter" and "neuron" name the same unit (output channels) on a Conv and on a Gemm.
      if ((g == "filter" || g == "neuron") && !caps.supports(g)) g = caps.inherited(g);
      if (!caps.supports(g)) return false;
      plan.granularity = g;
      fixCriterion();
      what = tr("Set %1 granularity to %2").arg(layer, value.toString());
      break;
    }
    case Criterion:
      if (!caps.criteria(plan.granularity).contains(value.toString())) return false;
      plan.criterion = value.toString();
      what = tr("Set %1 criterion to %2").arg(layer, plan.criterion);
      break;
    case Sparsity: {
      bool ok = false;
      double s = value.toDouble(&ok);
      if (!ok || s < 0 || s >= 1) return false;
      plan.sparsity = s;
      fixCriterion();
      what = tr("Set %1 sparsity").arg(layer);
      break;
    }
    case Lock:
      if (role != Qt::CheckStateRole) return false;
      plan.locked = value.toInt() == Qt::Checked;
      fixCriterion();
      what = plan.locked ? tr("Lock %1").arg(layer) : tr("Unlock %1").arg(layer);
      break;
    default: return false;
  }
  doc_->editLayerPlan(layer, plan, what);
  return true;
}
