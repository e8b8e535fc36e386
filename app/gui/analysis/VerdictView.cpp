#include "VerdictView.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QBoxLayout>
#include <QChart>
#include <QChartView>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedBarSeries>
#include <QValueAxis>

#include "AnalysisJob.h"
#include "ChartUtil.h"
#include "ModelDocument.h"
#include "ValidationData.h"

namespace {
// Short enough to sit horizontally under a bar; the findings below name them in full.
QString formatLabel(topiary::StorageFormat f) {
  switch (f) {
    case topiary::StorageFormat::Dense:
      return QObject::tr("dense");
    case topiary::StorageFormat::Bitmask:
      return QObject::tr("mask");
    case topiary::StorageFormat::Csr:
      return QObject::tr("CSR");
    case topiary::StorageFormat::RelativeIndex:
      return QObject::tr("rel.");
    case topiary::StorageFormat::NM:
      return QObject::tr("N:M");
    case topiary::StorageFormat::Structured:
      return QObject::tr("phys.");
  }
  return {};
}
}  // namespace

VerdictView::VerdictView(ModelDocument* doc, QWidget* parent)
    : QWidget(parent), doc_(doc), job_(new AnalysisJob(this)) {
  tolerance_ = analysis::makeToleranceSpin(
      tr("Matched accuracy: each kind of pruning goes as far as it can within this accuracy drop"), this);
  computeButton_ = new QPushButton(tr("Compare"), this);
  cancelButton_ = new QPushButton(tr("Cancel"), this);
  cancelButton_->setEnabled(false);
  bar_ = analysis::makeThinProgressBar(this);
  status_ = new QLabel(tr("Finds the sparsity unstructured, N:M and structured pruning reach at the same accuracy, "
                          "then prices and times each. Press Compare."),
                       this);
  status_->setWordWrap(true);
  verdictLabel_ = new QLabel(this);
  verdictLabel_->setWordWrap(true);
  verdictLabel_->setStyleSheet("QLabel { font-weight: bold; font-size: 13pt; background: #fff6dd; padding: 6px; }");
  verdictLabel_->setVisible(false);
  details_ = new QLabel(this);
  details_->setWordWrap(true);
  details_->setTextFormat(Qt::RichText);
  chartRow_ = new QWidget(this);
  chartRow_->setMinimumHeight(280);
  new QHBoxLayout(chartRow_);
  chartRow_->layout()->setContentsMargins(0, 0, 0, 0);

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Accuracy tolerance"), this));
  controls->addWidget(tolerance_);
  controls->addWidget(computeButton_);
  controls->addWidget(cancelButton_);
  controls->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(bar_);
  layout->addWidget(chartRow_, 3);
  layout->addWidget(verdictLabel_);
  // The findings and tables can be long: they scroll instead of squeezing the charts.
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(details_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  layout->addWidget(scroll, 2);
  layout->addWidget(status_);
  connect(computeButton_, &QPushButton::clicked, this, &VerdictView::compute);
  connect(cancelButton_, &QPushButton::clicked, this, &VerdictView::cancel);
  connect(job_, &AnalysisJob::progress, this, [this](double f, const QString& t) {
    bar_->setValue(int(f * 1000));
    status_->setText(t);
  });
  connect(doc_, &ModelDocument::modelChanged, this, [this] {
    if (job_->busy()) job_->cancel();  // it measures the previous model
    verdict_.reset();
    verdictLabel_->setVisible(false);
    details_->clear();
    qDeleteAll(charts_);
    charts_.clear();
  });
}

void VerdictView::setData(const QString& spec, qint64 limit) {
  dataSpec_ = spec;
  dataLimit_ = limit;
}
void VerdictView::setTolerance(double t) { tolerance_->setValue(t * 100); }
bool VerdictView::busy() const { return job_->busy(); }
void VerdictView::cancel() { job_->cancel(); }
QString VerdictView::verdictText() const { return verdictLabel_->text(); }

void VerdictView::compute() {
  if (!doc_->hasModel() || job_->busy()) return;
  auto model = doc_->model();
  auto out = std::make_shared<topiary::Verdict>();
  topiary::VerdictOptions o;
  o.tolerance = tolerance_->value() / 100.0;
  o.latencyRuns = latencyRuns_;
  const QString spec = dataSpec_;
  const qint64 limit = dataLimit_;
  computeButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  status_->setText(tr("Loading %1...").arg(spec));
  auto conn = std::make_shared<QMetaObject::Connection>();
  *conn = connect(job_, &AnalysisJob::finished, this, [this, out, conn, model](bool ok, const QString& err) {
    disconnect(*conn);
    computeButton_->setEnabled(true);
    cancelButton_->setEnabled(false);
    if (doc_->model() != model) {
      // Another model was opened meanwhile: this verdict is its predecessor's.
      status_->setText(tr("Comparison stopped: the model changed. Compute again for this one."));
    } else if (ok) {
      verdict_ = out;
      showVerdict();
    } else {
      status_->setText(tr("Comparison failed: %1").arg(err));
    }
    emit finished(ok);
  });
  job_->start([model, o, out, spec, limit](AnalysisJob& job) mutable -> QString {
    ValidationData data(spec, limit);
    QString why;
    const topiary::Dataset* d = data.forGraph(*model->graph, &why);
    if (!d) return why;
    o.cancel = job.cancelFlag();
    o.progress = [&job](const std::string& stage, int done, int total) {
      job.report(double(done) / std::max(1, total), QString::fromStdString(stage));
    };
    auto v = topiary::computeVerdict(*model->graph, *d, o);
    if (!v) return QString::fromStdString(v.status().message());
    *out = std::move(v.value());
    return QString();
  });
}

void VerdictView::showVerdict() {
  qDeleteAll(charts_);
  charts_.clear();
  const topiary::Verdict& v = *verdict_;
  // One chart per bit-width, on a shared scale so that 4 bits looks as small as it is.
  double top = 0;
  for (const auto& b : v.bars) top = std::max(top, b.total() / 1024.0);
  for (int bits : v.bits) {
    auto* values = new QBarSet(tr("values"));
    auto* index = new QBarSet(tr("index"));
    auto* scales = new QBarSet(tr("scales"));
    values->setColor(QColor(70, 130, 180));
    index->setColor(QColor(230, 120, 40));
    scales->setColor(QColor(150, 150, 150));
    QStringList categories;
    for (const auto& b : v.bars) {
      if (b.bits != bits) continue;
      categories << formatLabel(b.format);
      *values << b.valueBytes / 1024.0;
      *index << b.indexBytes / 1024.0;
      *scales << b.scaleBytes / 1024.0;
    }
    auto* series = new QStackedBarSeries;
    series->append(values);
    series->append(index);
    series->append(scales);
    auto* chart = new QChart;
    chart->setTitle(tr("%1-bit weights").arg(bits));
    chart->addSeries(series);
    auto* ax = new QBarCategoryAxis;
    ax->append(categories);
    QFont small = ax->labelsFont();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    ax->setLabelsFont(small);
    auto* ay = new QValueAxis;
    ay->setTitleText(tr("KB"));
    ay->setRange(0, top * 1.05);
    ay->applyNiceNumbers();
    ay->setLabelFormat("%.0f");
    chart->addAxis(ax, Qt::AlignBottom);
    chart->addAxis(ay, Qt::AlignLeft);
    series->attachAxis(ax);
    series->attachAxis(ay);
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->legend()->setVisible(bits == v.bits.front());
    chart->setMargins(QMargins(2, 2, 2, 2));
    auto* view = new QChartView(chart, chartRow_);
    view->setRenderHint(QPainter::Antialiasing);
    chartRow_->layout()->addWidget(view);
    charts_ << view;
  }

  verdictLabel_->setText(QString::fromStdString(v.sentence));
  verdictLabel_->setVisible(true);
  QString html = "<ul>";
  for (const auto& f : v.findings) html += "<li>" + QString::fromStdString(f).toHtmlEscaped() + "</li>";
  html += "</ul><table cellspacing=6><tr><th align=left>candidate</th><th>sparsity</th><th>accuracy</th></tr>";
  for (const auto& c : v.candidates)
    html += QString("<tr><td>%1 (%2)</td><td align=right>%3%</td><td align=right>%4%</td></tr>")
                .arg(QString::fromStdString(c.name), topiary::granularityName(c.granularity))
                .arg(c.weightSparsity * 100, 0, 'f', 1)
                .arg(c.accuracy * 100, 0, 'f', 2);
  html += "</table><p>";
  for (const auto& l : v.latencies)
    html += QString("%1: %2<br>")
                .arg(QString::fromStdString(l.label).toHtmlEscaped(),
                     (l.measured ? QString("%1 ms ").arg(l.medianMs, 0, 'f', 3) : QString()) +
                         QString::fromStdString(l.note).toHtmlEscaped());
  details_->setText(html + "</p>");
  status_->setText(tr("Dense accuracy %1% on %2 samples.").arg(v.denseAccuracy * 100, 0, 'f', 2).arg(v.samples));
}
