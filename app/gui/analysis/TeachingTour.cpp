#include "TeachingTour.h"

#include <QBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTextBrowser>
#include <QTimer>
#include <algorithm>
#include <cmath>

#include "AnalysisJob.h"
#include "LoadedModel.h"
#include "ModelDocument.h"
#include "ValidationData.h"
#include "topiary/dynamic.h"
#include "topiary/executor.h"
#include "topiary/prune.h"
#include "topiary/storage.h"
#include "topiary/train.h"

namespace {

// A real neuron on test image 0: the one with the largest u in its layer.
QString computeNeuron(const topiary::Graph& g, const topiary::Dataset& d, NeuronExample& out) {
  const auto layers = topiary::findPrunableLayers(g);
  // The last fully connected layer followed by a ReLU, so that u and ReLU(u) both mean something.
  const topiary::PrunableLayer* last = nullptr;
  const topiary::Node* node = nullptr;
  for (const auto& l : layers) {
    if (l.op != "Gemm" && l.op != "MatMul") continue;
    for (const auto& n : g.nodes) {
      if (n.name != l.node || n.outputs.empty()) continue;
      for (const auto& next : g.nodes)
        if (next.opType == "Relu" && !next.inputs.empty() && next.inputs[0] == n.outputs[0]) {
          last = &l;
          node = &n;
        }
    }
  }
  if (!last || !node) return QObject::tr("the model has no fully connected layer followed by a ReLU");
  auto ex = topiary::Executor::create(g);
  if (!ex) return QString::fromStdString(ex.status().message());
  topiary::Tensor img;
  d.batch(0, 1, img);
  if (!g.inputs.empty()) topiary::fitImagesToInput(img, g.inputs[0]);
  topiary::Status st = (*ex)->run(img);
  if (!st) return QString::fromStdString(st.message());
  const topiary::Tensor* x = (*ex)->value(node->inputs[0]);
  if (!x) return QObject::tr("the input of %1 is not available").arg(QString::fromStdString(last->node));
  const float* w = g.initializers.at(last->weight).f();
  const float* b = last->bias.empty() ? nullptr : g.initializers.at(last->bias).f();
  double bestU = -1e300;
  for (int64_t o = 0; o < last->outUnits; ++o) {
    double u = b ? b[o] : 0;
    for (int64_t i = 0; i < last->inUnits; ++i) u += double(w[last->index(o, i, 0)]) * x->f()[i];
    if (u > bestU) {
      bestU = u;
      out.neuron = int(o);
    }
  }
  out.layer = QString::fromStdString(last->node);
  out.inputs = int(last->inUnits);
  out.bias = b ? b[out.neuron] : 0;
  out.u = bestU;
  out.activation = std::max(0.0, bestU);
  QVector<QPair<double, double>> terms;
  for (int64_t i = 0; i < last->inUnits; ++i) terms.push_back({w[last->index(out.neuron, i, 0)], x->f()[i]});
  std::sort(terms.begin(), terms.end(),
            [](const auto& a, const auto& c) { return std::fabs(a.first * a.second) > std::fabs(c.first * c.second); });
  out.topTerms = terms.mid(0, 5);
  for (int i = 5; i < terms.size(); ++i) out.restSum += terms[i].first * terms[i].second;
  return QString();
}

}  // namespace

TeachingTour::TeachingTour(ModelDocument* doc, QWidget* parent)
    : QWidget(parent), doc_(doc), job_(new AnalysisJob(this)), steps_(teachingSteps()) {
  title_ = new QLabel(this);
  title_->setStyleSheet("QLabel { font-size: 15pt; font-weight: bold; }");
  text_ = new QTextBrowser(this);
  text_->setOpenLinks(false);
  text_->setMinimumHeight(110);
  text_->setMaximumHeight(170);
  extra_ = new QLabel(this);
  extra_->setWordWrap(true);
  extra_->setTextFormat(Qt::RichText);
  extra_->setStyleSheet("QLabel { background: #f3f7fb; padding: 6px; font-family: monospace; }");
  table_ = new QTableWidget(0, 5, this);
  table_->setHorizontalHeaderLabels({tr("step"), tr("accuracy"), tr("nonzero weights"), tr("size"), tr("latency")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  back_ = new QPushButton(tr("< Back"), this);
  next_ = new QPushButton(tr("Next >"), this);
  position_ = new QLabel(this);
  auto* nav = new QHBoxLayout;
  nav->addWidget(back_);
  nav->addWidget(position_, 1, Qt::AlignCenter);
  nav->addWidget(next_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addWidget(text_, 1);
  layout->addWidget(extra_);
  layout->addWidget(table_, 1);
  layout->addLayout(nav);
  connect(back_, &QPushButton::clicked, this, &TeachingTour::back);
  connect(next_, &QPushButton::clicked, this, &TeachingTour::next);
  connect(doc_, &ModelDocument::previewChanged, this, &TeachingTour::onPreview);
  connect(doc_, &ModelDocument::modelChanged, this, [this] {
    measured_.clear();
    refreshTable();
  });
  back_->setEnabled(false);
  title_->setText(tr("Teaching mode"));
  text_->setHtml(
      tr("<p>A guided tour of pruning on the model that is open (the demo LeNet-5 works best). Each step "
         "changes the real model: watch the graph, the layer table and the preview move, and the numbers "
         "collect in the table below. The first and the last layers stay unpruned throughout (they are the most "
         "sensitive). Press <b>Next</b> to start.</p>"));
  position_->setText(tr("%1 steps").arg(steps_.size()));
}

PrunePlan TeachingTour::planFor(int i) const {
  PrunePlan p = steps_[i].plan;
  if (doc_->hasModel() && doc_->model()->layers.size() > 2) {
    LayerPlan locked = p.layerPlan(QString());
    locked.locked = true;
    locked.sparsity = 0;
    // Element applies to every operator; "filter" named explicitly on the
    // logits layer would be an error in the recipe.
    locked.granularity = "element";
    p.setPlan(doc_->model()->layers.front().name, locked);
    p.setPlan(doc_->model()->layers.back().name, locked);
  }
  return p;
}

void TeachingTour::goTo(int i) {
  if (i < 0 || i >= steps_.size() || !doc_->hasModel()) return;
  current_ = i;
  const TeachingStep& s = steps_[i];
  title_->setText(s.title);
  text_->setHtml(s.text);
  extra_->setText(tr("Measuring..."));
  back_->setEnabled(i > 0);
  next_->setEnabled(i + 1 < steps_.size());
  position_->setText(tr("step %1 of %2").arg(i + 1).arg(steps_.size()));
  const PrunePlan plan = planFor(i);
  if (doc_->plan() != plan)
    doc_->restorePlan(plan, tr("Teaching: %1").arg(s.title));
  else if (doc_->hasPreview() && doc_->preview().plan == plan)
    QTimer::singleShot(0, this, &TeachingTour::onPreview);
}

void TeachingTour::onPreview() {
  if (current_ < 0 || !doc_->hasPreview() || doc_->preview().plan != planFor(current_)) return;
  // The first stage of a preview is an estimate on part of the images; the tour records the final numbers.
  if (doc_->preview().estimate) return;
  if (measured_.contains(current_) && measured_[current_].generation == doc_->preview().generation && !job_->busy())
    return;
  measured_[current_] = doc_->preview();
  refreshTable();
  startExtra(current_);
}

void TeachingTour::startExtra(int stepIndex) {
  const TeachingStep::Extra kind = steps_[stepIndex].extra;
  if (kind == TeachingStep::Extra::None) {
    extra_->setText(illustration());
    emit stepMeasured(stepIndex);
    return;
  }
  if (job_->busy()) job_->cancel();
  auto model = doc_->model();
  auto masks = measured_[stepIndex].masks;
  auto neuron = std::make_shared<NeuronExample>();
  auto saved = std::make_shared<QPair<double, double>>(-1, -1);
  auto overhead = std::make_shared<IndexOverhead>();
  auto conn = std::make_shared<QMetaObject::Connection>();
  *conn = connect(job_, &AnalysisJob::finished, this, [=](bool ok, const QString& err) {
    disconnect(*conn);
    if (current_ != stepIndex) return;
    if (!ok) {
      extra_->setText(tr("Could not compute this step's illustration: %1").arg(err.toHtmlEscaped()));
    } else {
      if (kind == TeachingStep::Extra::Neuron) neuron_ = *neuron;
      if (kind == TeachingStep::Extra::Dynamic) {
        dynamicSaved_ = saved->first;
        dynamicSavedApprox_ = saved->second;
      }
      if (kind == TeachingStep::Extra::IndexOverhead) overhead_ = *overhead;
      extra_->setText(illustration());
    }
    emit stepMeasured(stepIndex);
  });
  // A start refused because the previous job is still finishing retries shortly.
  auto work = [=](AnalysisJob& job) -> QString {
    const topiary::Graph& g = *model->graph;
    if (kind == TeachingStep::Extra::IndexOverhead) {
      topiary::Graph masked = g;
      if (masks) {
        topiary::Status st = topiary::applyMasks(masked, *masks);
        if (!st) return QString::fromStdString(st.message());
      }
      for (int bits : {32, 4}) {
        topiary::StorageOptions so;
        so.bits = bits;
        const auto t = topiary::measureStorage(masked, so).totals.at(topiary::StorageFormat::Csr);
        (bits == 32 ? overhead->valueBytes32 : overhead->valueBytes4) = (t.valueBits + t.scaleBits) / 8.0;
        (bits == 32 ? overhead->indexBytes32 : overhead->indexBytes4) = t.indexBits / 8.0;
      }
      return QString();
    }
    ValidationData data("fashion-mnist", 16);
    QString why;
    const topiary::Dataset* d = data.forGraph(g, &why);
    if (!d) return why;
    if (job.cancelled()) return QObject::tr("cancelled");
    if (kind == TeachingStep::Extra::Neuron) return computeNeuron(g, *d, *neuron);
    // Exactly silent channels (lossless), and nearly silent ones (largest
    // activation <= 1: exactly zero maps are rare in a small dense model).
    for (float threshold : {0.f, 1.f}) {
      topiary::DynamicOptions dopt;
      dopt.threshold = threshold;
      auto r = topiary::analyzeDynamicSkipping(g, d->images, dopt);
      if (!r) return QString::fromStdString(r.status().message());
      (threshold == 0.f ? saved->first : saved->second) = r->meanSavedFraction;
    }
    return QString();
  };
  if (!job_->start(work)) {
    disconnect(*conn);
    QTimer::singleShot(20, this, [this, stepIndex] {
      if (current_ == stepIndex) startExtra(stepIndex);
    });
  }
}

QString TeachingTour::illustration() const {
  if (current_ < 0) return {};
  const PreviewResult* m = measured(current_);
  QString s;
  if (m)
    s = tr("Now: accuracy %1%, %2 of %3 weights nonzero, size %4 KB (%5), latency %6 ms.<br>")
            .arg(m->accuracy * 100, 0, 'f', 2)
            .arg(m->nonzeroParams)
            .arg(originalParams(*m))
            .arg(m->storageBytes / 1024.0, 0, 'f', 1)
            .arg(m->storageName)
            .arg(m->latencyMs, 0, 'f', 3);
  if (current_ > 0) s += lockedShare();
  switch (steps_[current_].extra) {
    case TeachingStep::Extra::Neuron: {
      const NeuronExample& n = neuron_;
      if (n.neuron < 0) break;
      s += tr("Neuron %1 of %2 (%3 inputs) on test image 0: u = ").arg(n.neuron).arg(n.layer).arg(n.inputs);
      for (const auto& t : n.topTerms)
        s += QString("(%1&times;%2) + ").arg(t.first, 0, 'f', 3).arg(t.second, 0, 'f', 3);
      s += tr("(%1 other terms: %2) + b(%3) = <b>%4</b>; ReLU(u) = %5")
               .arg(n.inputs - n.topTerms.size())
               .arg(n.restSum, 0, 'f', 3)
               .arg(n.bias, 0, 'f', 3)
               .arg(n.u, 0, 'f', 3)
               .arg(n.activation, 0, 'f', 3);
      break;
    }
    case TeachingStep::Extra::Dynamic:
      if (dynamicSaved_ >= 0)
        s += tr("Run-time channel skipping over 16 test images, with no weight removed: skipping exactly silent "
                "channels saves <b>%1%</b> of the dense model's FLOPs per image (the output is unchanged); also "
                "skipping channels whose largest activation is at most 1 saves <b>%2%</b> (the output changes a "
                "little).")
                 .arg(dynamicSaved_ * 100, 0, 'f', 1)
                 .arg(dynamicSavedApprox_ * 100, 0, 'f', 1);
      break;
    case TeachingStep::Extra::IndexOverhead: {
      const IndexOverhead& o = overhead_;
      s += tr("CSR at 32 bits: values %1 KB + index %2 KB (index %3%). At 4 bits: values %4 KB + index %5 KB "
              "(index <b>%6%</b>).")
               .arg(o.valueBytes32 / 1024, 0, 'f', 1)
               .arg(o.indexBytes32 / 1024, 0, 'f', 1)
               .arg(100 * o.indexBytes32 / std::max(1.0, o.valueBytes32 + o.indexBytes32), 0, 'f', 0)
               .arg(o.valueBytes4 / 1024, 0, 'f', 1)
               .arg(o.indexBytes4 / 1024, 0, 'f', 1)
               .arg(100 * o.indexBytes4 / std::max(1.0, o.valueBytes4 + o.indexBytes4), 0, 'f', 0);
      break;
    }
    case TeachingStep::Extra::None:
      break;
  }
  return s;
}

// A step prunes "every layer" but the first and the last; where those two
// hold most of the model (lenet-300-100's fc1 alone: 88%), 50% of every
// layer removed 6% of its weights, and the step's text alone misled.
QString TeachingTour::lockedShare() const {
  const auto& model = doc_->model();
  if (!model || model->layers.size() <= 2) return {};
  qint64 total = 0;
  for (const auto& l : model->layers) total += l.params;
  if (total <= 0) return {};
  const auto& first = model->layers.front();
  const auto& last = model->layers.back();
  const double share = static_cast<double>(first.params + last.params) / static_cast<double>(total);
  return tr("%1 and %2 stay whole and hold %3% of this model's weights: the step's percentage applies to the "
            "other %4%.<br>")
      .arg(first.name, last.name)
      .arg(share * 100, 0, 'f', 0)
      .arg((1 - share) * 100, 0, 'f', 0);
}

qint64 TeachingTour::originalParams(const PreviewResult& m) const {
  // The model as loaded: a step that removes filters leaves a smaller model,
  // whose own count made "16416 / 16416" read as nothing pruned.
  const auto& model = doc_->model();
  return model && model->metricsValid ? model->metrics.params : m.params;
}

void TeachingTour::refreshTable() {
  table_->setRowCount(0);
  for (auto it = measured_.begin(); it != measured_.end(); ++it) {
    const PreviewResult& m = it.value();
    const int row = table_->rowCount();
    table_->insertRow(row);
    const QStringList cells = {steps_[it.key()].title,
                               m.accuracyValid ? QString("%1%").arg(m.accuracy * 100, 0, 'f', 2) : tr("n/a"),
                               QString("%1 / %2").arg(m.nonzeroParams).arg(originalParams(m)),
                               QString("%1 KB %2").arg(m.storageBytes / 1024.0, 0, 'f', 1).arg(m.storageName),
                               m.latencyMs >= 0 ? QString("%1 ms").arg(m.latencyMs, 0, 'f', 3) : tr("n/a")};
    for (int c = 0; c < cells.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(cells[c]));
  }
}
