#include "SensitivityView.h"

#include <QBoxLayout>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineSeries>
#include <QProgressBar>
#include <QPushButton>
#include <QScatterSeries>
#include <QValueAxis>

#include "AnalysisJob.h"
#include "ChartUtil.h"
#include "ModelDocument.h"
#include "ValidationData.h"
#include "topiary/verdict.h"

SensitivityView::SensitivityView(ModelDocument* doc, QWidget* parent)
    : QWidget(parent), doc_(doc), job_(new AnalysisJob(this)) {
  granularity_ = new QComboBox(this);
  granularity_->addItems({"element", "filter", "kernel", "nm", "channel", "neuron"});
  granularity_->setToolTip(tr("What one layer loses at each point: single weights (element) or whole structures"));
  criterion_ = new QComboBox(this);
  criterion_->addItems({"l1", "l2", "random"});
  tolerance_ = analysis::makeToleranceSpin(
      tr("Accuracy a layer may lose: clicking a curve picks the largest sparsity within it"), this);
  computeButton_ = new QPushButton(tr("Compute"), this);
  cancelButton_ = new QPushButton(tr("Cancel"), this);
  cancelButton_->setEnabled(false);
  applyAll_ = new QPushButton(tr("Apply to all at tolerance"), this);
  applyAll_->setEnabled(false);
  bar_ = analysis::makeThinProgressBar(this);
  status_ = new QLabel(tr("Per-layer accuracy when that layer alone is pruned. Press Compute."), this);
  status_->setWordWrap(true);
  chartView_ =
      analysis::makeChartView(tr("Accuracy vs sparsity, one layer pruned at a time"), this, Qt::AlignRight, 420, 300);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Granularity"), this));
  controls->addWidget(granularity_);
  controls->addWidget(new QLabel(tr("Criterion"), this));
  controls->addWidget(criterion_);
  controls->addWidget(new QLabel(tr("Tolerance"), this));
  controls->addWidget(tolerance_);
  controls->addWidget(computeButton_);
  controls->addWidget(cancelButton_);
  controls->addWidget(applyAll_);
  controls->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(bar_);
  layout->addWidget(chartView_, 1);
  layout->addWidget(status_);

  connect(computeButton_, &QPushButton::clicked, this, &SensitivityView::compute);
  connect(cancelButton_, &QPushButton::clicked, this, &SensitivityView::cancel);
  connect(applyAll_, &QPushButton::clicked, this, [this] { applyAllAtTolerance(); });
  connect(job_, &AnalysisJob::progress, this, [this](double f, const QString& t) {
    bar_->setValue(int(f * 1000));
    status_->setText(t);
  });
  connect(doc_, &ModelDocument::modelChanged, this, &SensitivityView::onModelChanged);
  connect(doc_, &ModelDocument::weightsChanged, this, &SensitivityView::onModelChanged);
}

SensitivityView::~SensitivityView() = default;

void SensitivityView::setData(const QString& spec, qint64 limit) {
  dataSpec_ = spec;
  dataLimit_ = limit;
}

void SensitivityView::setGranularity(const QString& g) { granularity_->setCurrentText(g); }
void SensitivityView::setTolerance(double t) { tolerance_->setValue(t * 100); }
double SensitivityView::tolerance() const { return tolerance_->value() / 100.0; }
bool SensitivityView::busy() const { return job_->busy(); }
void SensitivityView::cancel() { job_->cancel(); }

QString SensitivityView::cacheKey() const {
  // The graph pointer changes whenever the weights do (fine-tuning gives a new LoadedModel).
  QString key = QString("%1|%2|%3|%4|%5|%6")
                    .arg(doc_->model()->path)
                    .arg(quintptr(doc_->model()->graph.get()))
                    .arg(granularity_->currentText(), criterion_->currentText(), dataSpec_)
                    .arg(dataLimit_);
  for (double s : sparsities_) key += QString("|%1").arg(s);
  return key;
}

void SensitivityView::onModelChanged() {
  // A sweep still running measures the previous weights: stop it (its
  // finish is dropped below, as the model it started on is gone).
  if (job_->busy()) job_->cancel();
  result_.reset();
  applyAll_->setEnabled(false);
  chartView_->chart()->removeAllSeries();
}

void SensitivityView::compute() {
  if (!doc_->hasModel() || job_->busy()) return;
  const QString key = cacheKey();
  if (cache_.contains(key)) {
    ++cacheHits_;
    result_ = cache_.value(key);
    showResult();
    status_->setText(status_->text() + tr(" (cached)"));
    emit finished(true);
    return;
  }
  topiary::SensitivityOptions o;
  topiary::parseGranularity(granularity_->currentText().toStdString(), o.granularity);
  topiary::parseCriterion(criterion_->currentText().toStdString(), o.criterion);
  o.sparsities = sparsities_;
  auto model = doc_->model();
  auto out = std::make_shared<topiary::SensitivityResult>();
  const QString spec = dataSpec_;
  const qint64 limit = dataLimit_;
  computeButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  bar_->setValue(0);
  status_->setText(tr("Loading %1...").arg(spec));
  auto finishedConn = std::make_shared<QMetaObject::Connection>();
  *finishedConn =
      connect(job_, &AnalysisJob::finished, this, [this, key, out, finishedConn, model](bool ok, const QString& err) {
        disconnect(*finishedConn);
        computeButton_->setEnabled(true);
        cancelButton_->setEnabled(false);
        if (doc_->model() != model) {
          // Another model (or trained weights) came in meanwhile: these
          // curves name its predecessor's layers, never shown nor applied.
          status_->setText(tr("Sensitivity stopped: the model changed. Compute again for this one."));
        } else if (ok) {
          cache_.insert(key, out);
          result_ = out;
          showResult();
        } else {
          status_->setText(tr("Sensitivity failed: %1").arg(err));
        }
        emit finished(ok);
      });
  job_->start([model, o, out, spec, limit](AnalysisJob& job) mutable -> QString {
    ValidationData data(spec, limit);
    QString why;
    const topiary::Dataset* d = data.forGraph(*model->graph, &why);
    if (!d) return why;
    o.cancel = job.cancelFlag();
    o.progress = [&job](int done, int total) {
      job.report(double(done) / std::max(1, total), QObject::tr("pruned layer/sparsity %1 of %2").arg(done).arg(total));
    };
    auto r = topiary::runSensitivity(*model->graph, *d, o);
    if (!r) return QString::fromStdString(r.status().message());
    *out = std::move(r.value());
    return QString();
  });
}

void SensitivityView::showResult() {
  QChart* chart = chartView_->chart();
  analysis::resetChart(chart);
  if (!result_) return;
  auto* ax = analysis::makeValueAxis(tr("sparsity of the layer (%)"), "%.0f", 0, 100);
  auto* ay = new QValueAxis;
  ay->setTitleText(result_->agreement ? tr("agreement with the dense model (%)") : tr("accuracy (%)"));
  ay->setLabelFormat("%.0f");
  chart->addAxis(ax, Qt::AlignBottom);
  chart->addAxis(ay, Qt::AlignLeft);
  double lo = 100;
  int analysed = 0;
  for (const auto& c : result_->layers) {
    if (!c.skipped.empty()) continue;
    ++analysed;
    auto* s = new QLineSeries;
    s->setName(QString::fromStdString(c.layer));
    s->setPointsVisible(true);
    for (size_t i = 0; i < c.sparsities.size(); ++i) {
      s->append(c.sparsities[i] * 100, c.accuracies[i] * 100);
      lo = std::min(lo, c.accuracies[i] * 100);
    }
    // Our own palette: a pen set before addSeries would otherwise override the theme's colours.
    static const QColor palette[] = {
        QColor(31, 119, 180), QColor(255, 127, 14),  QColor(44, 160, 44),   QColor(214, 39, 40),  QColor(148, 103, 189),
        QColor(140, 86, 75),  QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34), QColor(23, 190, 207)};
    QPen pen(palette[(analysed - 1) % 10], 2.0);
    s->setPen(pen);
    s->setColor(pen.color());
    chart->addSeries(s);
    s->attachAxis(ax);
    s->attachAxis(ay);
    const QString layer = s->name();
    connect(s, &QLineSeries::clicked, this, [this, layer](const QPointF&) { pickLayer(layer); });
  }
  // The tolerance line: points above it are safe.
  const double floor = (result_->denseAccuracy - tolerance()) * 100;
  auto* tol = new QLineSeries;
  tol->setName(tr("dense - tolerance"));
  tol->append(0, floor);
  tol->append(100, floor);
  QPen dash(Qt::gray, 1.5, Qt::DashLine);
  tol->setPen(dash);
  chart->addSeries(tol);
  tol->attachAxis(ax);
  tol->attachAxis(ay);
  ay->setRange(std::max(0.0, std::floor(lo / 5) * 5),
               std::min(100.0, std::ceil(result_->denseAccuracy * 20 + 0.2) * 5));
  ay->applyNiceNumbers();
  ax->setTickCount(11);
  applyAll_->setEnabled(analysed > 0);
  status_->setText(
      tr("%1 layers, %2 samples, dense %3 %4%. Click a curve to set that layer's sparsity at the tolerance.")
          .arg(analysed)
          .arg(result_->samples)
          .arg(result_->agreement ? tr("agreement") : tr("accuracy"))
          .arg(result_->denseAccuracy * 100, 0, 'f', 2));
}

double SensitivityView::pickLayer(const QString& layer) {
  if (!result_) return -1;
  for (const auto& c : result_->layers) {
    if (QString::fromStdString(c.layer) != layer || !c.skipped.empty()) continue;
    const double s = topiary::sparsityAtTolerance(c.sparsities, c.accuracies, result_->denseAccuracy, tolerance());
    LayerPlan p = doc_->plan().layerPlan(layer);
    p.granularity = QString::fromStdString(result_->granularity);
    p.criterion = QString::fromStdString(result_->criterion);
    p.sparsity = s;
    doc_->editLayerPlan(layer, p, tr("Sensitivity: %1 at %2%").arg(layer).arg(s * 100, 0, 'f', 0));
    status_->setText(tr("%1: %2% sparsity keeps accuracy within %3 points.")
                         .arg(layer)
                         .arg(s * 100, 0, 'f', 0)
                         .arg(tolerance() * 100));
    return s;
  }
  return -1;
}

int SensitivityView::applyAllAtTolerance() {
  if (!result_) return 0;
  PrunePlan plan = doc_->plan();
  int n = 0;
  for (const auto& c : result_->layers) {
    if (!c.skipped.empty()) continue;
    const QString layer = QString::fromStdString(c.layer);
    LayerPlan p = plan.layerPlan(layer);
    if (p.locked) continue;
    p.granularity = QString::fromStdString(result_->granularity);
    p.criterion = QString::fromStdString(result_->criterion);
    p.sparsity = topiary::sparsityAtTolerance(c.sparsities, c.accuracies, result_->denseAccuracy, tolerance());
    plan.setPlan(layer, p);
    ++n;
  }
  doc_->restorePlan(plan, tr("Sensitivity: every layer at %1 points tolerance").arg(tolerance() * 100));
  status_->setText(tr("%1 layers set to their largest sparsity within %2 points.").arg(n).arg(tolerance() * 100));
  return n;
}
