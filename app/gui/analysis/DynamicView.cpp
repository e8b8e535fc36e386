#include "DynamicView.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QBoxLayout>
#include <QChart>
#include <QChartView>
#include <QDoubleSpinBox>
#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QValueAxis>

#include "AnalysisJob.h"
#include "ChartUtil.h"
#include "ModelDocument.h"
#include "ValidationData.h"
#include "topiary/prune.h"
#include "topiary/recipe.h"

namespace {

void fillBars(QChart* chart, const QStringList& categories, const QList<QBarSet*>& sets, const QString& yTitle) {
  auto* series = new QBarSeries;
  double top = 1;
  for (QBarSet* s : sets) {
    series->append(s);
    for (int i = 0; i < s->count(); ++i) top = std::max(top, s->at(i));
  }
  chart->addSeries(series);
  auto* ax = new QBarCategoryAxis;
  ax->append(categories);
  auto* ay = new QValueAxis;
  ay->setTitleText(yTitle);
  ay->setLabelFormat("%.0f");
  ay->setRange(0, top * 1.1);
  ay->applyNiceNumbers();
  chart->addAxis(ax, Qt::AlignBottom);
  chart->addAxis(ay, Qt::AlignLeft);
  series->attachAxis(ax);
  series->attachAxis(ay);
}

}  // namespace

DynamicView::DynamicView(ModelDocument* doc, QWidget* parent)
    : QWidget(parent), doc_(doc), job_(new AnalysisJob(this)) {
  index_ = new QSpinBox(this);
  index_->setRange(0, 9999);
  index_->setToolTip(tr("Which Fashion-MNIST test image to run"));
  threshold_ = new QDoubleSpinBox(this);
  threshold_->setRange(0, 10);
  threshold_->setDecimals(3);
  threshold_->setSingleStep(0.01);
  threshold_->setToolTip(tr("A channel is skipped when its largest activation is at most this (0: exactly silent)"));
  image_ = new QLabel(this);
  image_->setFixedSize(84, 84);
  image_->setFrameShape(QFrame::Box);
  analyzeButton_ = new QPushButton(tr("Analyze input"), this);
  surgeryButton_ = new QPushButton(tr("Run network surgery (short)"), this);
  surgeryButton_->setToolTip(
      tr("Dynamic network surgery: 80% element pruning, masks recomputed while fine-tuning, "
         "so pruned weights can come back"));
  cancelButton_ = new QPushButton(tr("Cancel"), this);
  cancelButton_->setEnabled(false);
  bar_ = analysis::makeThinProgressBar(this);
  summary_ = new QLabel(tr("Static pruning removes the same channels for every input; dynamic pruning skips, for each "
                           "input, the channels it leaves silent. Choose an image and press Analyze."),
                        this);
  summary_->setWordWrap(true);
  dnsSummary_ = new QLabel(this);
  dnsSummary_->setWordWrap(true);
  skipChart_ = analysis::makeChartView(tr("Input channels skipped per layer"), this);
  dnsChart_ = analysis::makeChartView(tr("Dynamic network surgery: weights spliced back per layer"), this);

  auto* controls = new QHBoxLayout;
  controls->addWidget(image_);
  auto* col = new QVBoxLayout;
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Test image"), this));
  row->addWidget(index_);
  row->addWidget(new QLabel(tr("Threshold"), this));
  row->addWidget(threshold_);
  row->addWidget(analyzeButton_);
  row->addWidget(surgeryButton_);
  row->addWidget(cancelButton_);
  row->addStretch(1);
  col->addLayout(row);
  col->addWidget(summary_);
  controls->addLayout(col, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(bar_);
  layout->addWidget(skipChart_, 1);
  layout->addWidget(dnsChart_, 1);
  layout->addWidget(dnsSummary_);
  connect(analyzeButton_, &QPushButton::clicked, this, &DynamicView::analyze);
  connect(surgeryButton_, &QPushButton::clicked, this, [this] { runSurgery(); });
  connect(cancelButton_, &QPushButton::clicked, job_, &AnalysisJob::cancel);
  connect(job_, &AnalysisJob::progress, this, [this](double f, const QString& t) {
    bar_->setValue(int(f * 1000));
    dnsSummary_->setText(t);
  });
}

void DynamicView::setImageIndex(int i) { index_->setValue(i); }
void DynamicView::setThreshold(double t) { threshold_->setValue(t); }
bool DynamicView::busy() const { return job_->busy(); }

void DynamicView::analyze() {
  if (!doc_->hasModel() || job_->busy()) return;
  auto model = doc_->model();
  auto masks = doc_->preview().masks;
  const int index = index_->value();
  const float threshold = float(threshold_->value());
  struct Out {
    QVector<DynamicLayerRow> rows;
    double saved = 0;
    int label = -1;
    QImage image;
  };
  auto out = std::make_shared<Out>();
  auto conn = std::make_shared<QMetaObject::Connection>();
  *conn = connect(job_, &AnalysisJob::finished, this, [this, out, conn](bool ok, const QString& err) {
    disconnect(*conn);
    analyzeButton_->setEnabled(true);
    cancelButton_->setEnabled(false);
    if (ok) {
      rows_ = out->rows;
      savedFraction_ = out->saved;
      label_ = out->label;
      image_->setPixmap(QPixmap::fromImage(out->image.scaled(84, 84)));
      showRows();
    } else {
      summary_->setText(tr("Analysis failed: %1").arg(err));
    }
    emit analyzed(ok);
  });
  analyzeButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  job_->start([model, masks, index, threshold, out](AnalysisJob&) -> QString {
    ValidationData data("fashion-mnist", index + 1);
    QString why;
    const topiary::Dataset* d = data.forGraph(*model->graph, &why);
    if (!d) return why;
    if (index >= d->size()) return QObject::tr("image %1 is beyond the %2 test images").arg(index).arg(d->size());
    topiary::Tensor img;
    d->batch(index, 1, img);
    out->label = d->labels[size_t(index)];
    out->image = QImage(28, 28, QImage::Format_Grayscale8);
    for (int y = 0; y < 28 && img.numel() >= 784; ++y)
      for (int x = 0; x < 28; ++x)
        out->image.setPixel(x, y, qRgb(0, 0, 0) | (uint(std::clamp(img.f()[y * 28 + x], 0.f, 1.f) * 255) * 0x010101u));
    topiary::DynamicOptions o;
    o.threshold = threshold;
    auto r = topiary::analyzeDynamicSkipping(*model->graph, img, o);
    if (!r) return QString::fromStdString(r.status().message());
    // The static choice: input channels of each Conv whose weights the plan's masks zero entirely.
    topiary::Graph masked = *model->graph;
    if (masks) {
      topiary::Status st = topiary::applyMasks(masked, *masks);
      if (!st) return QString::fromStdString(st.message());
    }
    const auto layers = topiary::findPrunableLayers(masked);
    for (const auto& l : r->layers) {
      DynamicLayerRow row;
      row.node = QString::fromStdString(l.node);
      row.channels = l.channels;
      row.skippedDynamic = l.meanSkippedChannels;
      row.flops = l.flopsPerInput;
      row.savedFlops = l.meanSavedFlops;
      if (const topiary::PrunableLayer* p = topiary::findPrunableLayer(layers, l.node)) {
        const float* w = masked.initializers.at(p->weight).f();
        for (int64_t c = 0; c < p->inUnits; ++c) {
          bool zero = true;
          for (int64_t o2 = 0; o2 < p->outUnits && zero; ++o2)
            for (int64_t k = 0; k < p->kernelSize && zero; ++k) zero = w[p->index(o2, c, k)] == 0.f;
          row.skippedStatic += zero;
        }
      }
      out->rows.push_back(row);
    }
    out->saved = r->meanSavedFraction;
    return QString();
  });
}

void DynamicView::showRows() {
  QChart* chart = skipChart_->chart();
  analysis::resetChart(chart);
  auto* dyn = new QBarSet(tr("skipped for this input (dynamic)"));
  auto* stat = new QBarSet(tr("removed by the plan (static)"));
  auto* total = new QBarSet(tr("input channels"));
  total->setColor(QColor(200, 200, 200));
  QStringList cats;
  for (const auto& r : rows_) {
    cats << r.node;
    *dyn << r.skippedDynamic;
    *stat << double(r.skippedStatic);
    *total << double(r.channels);
  }
  fillBars(chart, cats, {total, dyn, stat}, tr("channels"));
  QString text = tr("Image %1 (class %2): run-time skipping saves %3% of this input's FLOPs.")
                     .arg(index_->value())
                     .arg(label_)
                     .arg(savedFraction_ * 100, 0, 'f', 1);
  for (const auto& r : rows_)
    text += tr(" %1 skips %2 of %3 channels (static plan: %4).")
                .arg(r.node)
                .arg(r.skippedDynamic, 0, 'f', 0)
                .arg(r.channels)
                .arg(r.skippedStatic);
  summary_->setText(text);
}

void DynamicView::runSurgery(double sparsity, qint64 trainLimit, int maxBatches) {
  if (!doc_->hasModel() || job_->busy()) return;
  auto model = doc_->model();
  auto out = std::make_shared<std::vector<topiary::DnsLayerStats>>();
  auto conn = std::make_shared<QMetaObject::Connection>();
  *conn = connect(job_, &AnalysisJob::finished, this, [this, out, conn](bool ok, const QString& err) {
    disconnect(*conn);
    surgeryButton_->setEnabled(true);
    cancelButton_->setEnabled(false);
    if (ok) {
      dns_ = *out;
      showSurgery();
    } else {
      dnsSummary_->setText(tr("Network surgery failed: %1").arg(err));
    }
    emit surgeryFinished(ok);
  });
  surgeryButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  job_->start([model, out, sparsity, trainLimit, maxBatches](AnalysisJob& job) -> QString {
    ValidationData data("fashion-mnist:train", trainLimit);
    QString why;
    const topiary::Dataset* d = data.forGraph(*model->graph, &why);
    if (!d) return why;
    nlohmann::json j = {{"default", {{"granularity", "element"}, {"sparsity", sparsity}}},
                        {"method", "dns"},
                        {"finetune", {{"epochs", 1}, {"lr", 0.01}, {"max_batches", maxBatches}}}};
    auto recipe = topiary::recipeFromJson(j);
    if (!recipe) return QString::fromStdString(recipe.status().message());
    topiary::PruneRunOptions po;
    po.trainData = d;
    po.cancel = job.cancelFlag();
    po.progress = [&job](const topiary::PruneProgress& p) {
      const double f = p.training && p.train.batches > 0 ? double(p.train.batch) / p.train.batches : 0;
      job.report(f, QObject::tr("%1: batch %2/%3, loss %4")
                        .arg(QString::fromStdString(p.stage))
                        .arg(p.train.batch)
                        .arg(p.train.batches)
                        .arg(p.train.loss, 0, 'f', 3));
      return !job.cancelled();
    };
    auto r = topiary::runRecipe(*model->graph, recipe.value(), po);
    if (!r) return QString::fromStdString(r.status().message());
    *out = r->dns;
    return QString();
  });
}

void DynamicView::showSurgery() {
  QChart* chart = dnsChart_->chart();
  analysis::resetChart(chart);
  auto* back = new QBarSet(tr("spliced back (0 -> 1)"));
  auto* again = new QBarSet(tr("pruned during fine-tune (1 -> 0)"));
  QStringList cats;
  qint64 totalBack = 0, totalPruned = 0;
  for (const auto& l : dns_) {
    cats << QString::fromStdString(l.node);
    *back << double(l.spliceBacks);
    *again << double(l.prunings);
    totalBack += l.spliceBacks;
    totalPruned += l.pruned;
  }
  fillBars(chart, cats, {back, again}, tr("weights"));
  dnsSummary_->setText(tr("Network surgery: %1 pruned weights were spliced back during the fine-tune; %2 weights are "
                          "pruned at the end. A static mask would never have restored any of them.")
                           .arg(totalBack)
                           .arg(totalPruned));
}
