#include "JobPanel.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QLabel>
#include <QLineSeries>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QValueAxis>

#include "JobWorker.h"
#include "ModelDocument.h"

JobPanel::JobPanel(ModelDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
  qRegisterMetaType<JobRequest>();
  qRegisterMetaType<JobProgress>();
  qRegisterMetaType<JobOutcome>();
  worker_ = new JobWorker;
  worker_->moveToThread(&thread_);
  thread_.setObjectName("jobs");
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &JobPanel::submit, worker_, &JobWorker::run, Qt::QueuedConnection);
  connect(worker_, &JobWorker::progress, this, &JobPanel::onProgress, Qt::QueuedConnection);
  connect(worker_, &JobWorker::finished, this, &JobPanel::onFinished, Qt::QueuedConnection);
  thread_.start();

  fineTune_ = new QPushButton(tr("Fine-tune"), this);
  fineTune_->setToolTip(tr("Train the pruned model on Fashion-MNIST; pruned weights stay zero"));
  epochs_ = new QSpinBox(this);
  epochs_->setRange(1, 50);
  epochs_->setValue(1);
  epochs_->setSuffix(tr(" epoch(s)"));
  bench_ = new QPushButton(tr("Benchmark"), this);
  bench_->setToolTip(tr("Measure single-image latency of the pruned model (200 runs)"));
  cancelButton_ = new QPushButton(tr("Cancel"), this);
  cancelButton_->setEnabled(false);
  bar_ = new QProgressBar(this);
  bar_->setRange(0, 1000);
  bar_->setValue(0);
  bar_->setFormat(tr("idle"));
  status_ = new QLabel(this);
  status_->setWordWrap(true);

  auto* chart = new QChart;
  chart->setMargins(QMargins(2, 2, 2, 2));
  loss_ = new QLineSeries;
  loss_->setName(tr("loss"));
  acc_ = new QLineSeries;
  acc_->setName(tr("train acc"));
  valAcc_ = new QLineSeries;
  valAcc_->setName(tr("val acc"));
  valAcc_->setPointsVisible(true);
  chart->addSeries(loss_);
  chart->addSeries(acc_);
  chart->addSeries(valAcc_);
  ax_ = new QValueAxis;
  ax_->setTitleText(tr("epoch"));
  ax_->setRange(0, 1);
  ayLoss_ = new QValueAxis;
  ayLoss_->setTitleText(tr("loss"));
  ayLoss_->setRange(0, 1);
  auto* ayAcc = new QValueAxis;
  ayAcc->setTitleText(tr("accuracy"));
  ayAcc->setRange(0, 1);
  chart->addAxis(ax_, Qt::AlignBottom);
  chart->addAxis(ayLoss_, Qt::AlignLeft);
  chart->addAxis(ayAcc, Qt::AlignRight);
  loss_->attachAxis(ax_);
  loss_->attachAxis(ayLoss_);
  acc_->attachAxis(ax_);
  acc_->attachAxis(ayAcc);
  valAcc_->attachAxis(ax_);
  valAcc_->attachAxis(ayAcc);
  chart_ = new QChartView(chart, this);
  chart_->setRenderHint(QPainter::Antialiasing);
  chart_->setMinimumHeight(160);

  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(4, 4, 4, 4);
  grid->addWidget(fineTune_, 0, 0);
  grid->addWidget(epochs_, 0, 1);
  grid->addWidget(bench_, 0, 2);
  grid->addWidget(cancelButton_, 0, 3);
  grid->addWidget(bar_, 1, 0, 1, 4);
  grid->addWidget(status_, 2, 0, 1, 4);
  grid->addWidget(chart_, 3, 0, 1, 4);
  grid->setRowStretch(3, 1);

  connect(fineTune_, &QPushButton::clicked, this, [this] {
    topiary::TrainOptions o;
    o.epochs = epochs_->value();
    o.lr = 0.01f;
    startFineTune(o);
  });
  connect(bench_, &QPushButton::clicked, this, [this] { startBenchmark(); });
  connect(cancelButton_, &QPushButton::clicked, this, &JobPanel::cancel);
}

JobPanel::~JobPanel() {
  cancel();
  thread_.quit();
  thread_.wait();
}

int JobPanel::curvePoints() const { return loss_->count(); }

void JobPanel::startFineTune(const topiary::TrainOptions& options, qint64 trainLimit) {
  JobRequest r;
  r.kind = JobRequest::Kind::FineTune;
  r.train = options;
  r.trainLimit = trainLimit;
  loss_->clear();
  acc_->clear();
  valAcc_->clear();
  ax_->setRange(0, options.epochs);
  start(r, tr("Fine-tune"));
}

void JobPanel::startBenchmark(int runs) {
  JobRequest r;
  r.kind = JobRequest::Kind::Benchmark;
  r.benchmarkRuns = runs;
  start(r, tr("Benchmark"));
}

void JobPanel::start(JobRequest req, const QString& what) {
  if (running_ || !doc_->hasModel()) return;
  req.model = doc_->model();
  // The masks of the current plan (only when the preview is up to date).
  if (doc_->hasPreview() && doc_->preview().plan == doc_->plan()) req.masks = doc_->preview().masks;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  req.cancel = cancel_;
  running_ = true;
  fineTune_->setEnabled(false);
  bench_->setEnabled(false);
  cancelButton_->setEnabled(true);
  bar_->setValue(0);
  bar_->setFormat(what + tr(": starting"));
  status_->clear();
  emit jobStarted(what);
  emit submit(req);
}

void JobPanel::cancel() {
  if (cancel_) cancel_->store(true);
}

void JobPanel::onProgress(const JobProgress& p) {
  if (!running_) return;
  bar_->setValue(int(p.fraction * 1000));
  QString eta = p.etaSeconds >= 0 ? tr(", ETA %1 s").arg(p.etaSeconds, 0, 'f', 0) : QString();
  bar_->setFormat(QString("%1% %2").arg(p.fraction * 100, 0, 'f', 0).arg(eta));
  status_->setText(p.text);
  if (p.hasPoint) {
    loss_->append(p.step, p.loss);
    if (p.accuracy >= 0) acc_->append(p.step, p.accuracy);
    if (p.validationAccuracy >= 0) valAcc_->append(p.step, p.validationAccuracy);
    if (p.loss > ayLoss_->max()) ayLoss_->setRange(0, p.loss * 1.1);
  }
}

void JobPanel::onFinished(const JobOutcome& o) {
  running_ = false;
  last_ = o;
  fineTune_->setEnabled(true);
  bench_->setEnabled(true);
  cancelButton_->setEnabled(false);
  bar_->setValue(o.ok ? 1000 : 0);
  bar_->setFormat(o.ok ? tr("done") : (o.cancelled ? tr("cancelled") : tr("failed")));
  status_->setText(o.message);
  // A finished fine-tune replaces the in-memory weights (never the file).
  if (o.ok && o.model) doc_->replaceWeights(o.model);
  emit jobFinished(o);
}
