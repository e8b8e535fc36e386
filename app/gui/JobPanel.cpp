#include "JobPanel.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QVBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineSeries>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QValueAxis>
#include <cmath>

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

  auto button = [this](const QString& text, const QString& tip) {
    auto* b = new QPushButton(text, this);
    b->setToolTip(tip);
    return b;
  };
  fineTune_ = button(tr("Fine-tune"), tr("Train the pruned model on Fashion-MNIST; pruned weights stay zero"));
  admm_ = button(tr("ADMM"), tr("Run the plan with ADMM (Zhang et al. 2018): 4 penalised rounds, then hard pruning and "
                                "masked retraining for the epochs set here"));
  dns_ = button(tr("DNS"), tr("Dynamic network surgery (Guo et al. 2016): masks are recomputed while training, so "
                              "pruned weights can come back"));
  agp_ = button(tr("AGP"), tr("Gradual pruning (Zhu & Gupta 2017): the plan's sparsity reached in the plan's "
                              "schedule steps, fine-tuning after each"));
  epochs_ = new QSpinBox(this);
  epochs_->setRange(1, 50);
  epochs_->setValue(1);
  epochs_->setSuffix(tr(" epoch(s)"));
  epochs_->setToolTip(tr("Epochs of fine-tuning (per schedule step for AGP)"));
  bench_ = button(tr("Benchmark"), tr("Measure single-image latency of the pruned model (200 runs)"));
  cancelButton_ = button(tr("Cancel"), tr("Stop the running job; the weights stay as they were (Esc)"));
  cancelButton_->setEnabled(false);
  bar_ = new QProgressBar(this);
  bar_->setRange(0, 1000);
  bar_->setValue(0);
  bar_->setFormat(tr("idle"));
  status_ = new QLabel(tr("No job has run yet."), this);
  status_->setWordWrap(true);
  status_->setAlignment(Qt::AlignTop | Qt::AlignLeft);

  auto* chart = new QChart;
  chart->setMargins(QMargins(0, 0, 0, 0));
  chart->legend()->setAlignment(Qt::AlignBottom);
  loss_ = new QLineSeries;
  loss_->setName(tr("loss"));
  loss_->setPen(QPen(QColor(200, 70, 50), 2));
  acc_ = new QLineSeries;
  acc_->setName(tr("train acc"));
  acc_->setPen(QPen(QColor(60, 110, 190), 2));
  valAcc_ = new QLineSeries;
  valAcc_->setName(tr("val acc"));
  valAcc_->setPen(QPen(QColor(40, 150, 80), 2));
  valAcc_->setPointsVisible(true);
  chart->addSeries(loss_);
  chart->addSeries(acc_);
  chart->addSeries(valAcc_);
  ax_ = new QValueAxis;
  ax_->setTitleText(tr("epochs"));
  ax_->setLabelFormat("%.1f");
  ax_->setTickCount(6);
  ax_->setRange(0, 1);
  ayLoss_ = new QValueAxis;
  ayLoss_->setTitleText(tr("loss"));
  ayLoss_->setLabelFormat("%.2f");
  ayLoss_->setTickCount(5);
  ayLoss_->setRange(0, 1);
  ayAcc_ = new QValueAxis;
  ayAcc_->setTitleText(tr("accuracy"));
  ayAcc_->setLabelFormat("%.2f");
  ayAcc_->setTickCount(5);
  ayAcc_->setRange(0, 1);
  chart->addAxis(ax_, Qt::AlignBottom);
  chart->addAxis(ayLoss_, Qt::AlignLeft);
  chart->addAxis(ayAcc_, Qt::AlignRight);
  loss_->attachAxis(ax_);
  loss_->attachAxis(ayLoss_);
  acc_->attachAxis(ax_);
  acc_->attachAxis(ayAcc_);
  valAcc_->attachAxis(ax_);
  valAcc_->attachAxis(ayAcc_);
  chart_ = new QChartView(chart, this);
  chart_->setRenderHint(QPainter::Antialiasing);
  chart_->setMinimumHeight(140);  // with the preview above, fits a 1366x768 screen
  chart_->setMinimumWidth(300);

  // Buttons in two rows above, the curves below with all the remaining
  // room (beside the buttons, or in a short dock, the axes were squashed).
  auto* grid = new QGridLayout;
  grid->setSpacing(4);
  grid->addWidget(fineTune_, 0, 0);
  grid->addWidget(epochs_, 0, 1);
  grid->addWidget(admm_, 0, 2);
  grid->addWidget(dns_, 0, 3);
  grid->addWidget(agp_, 0, 4);
  grid->addWidget(bench_, 1, 0);
  grid->addWidget(cancelButton_, 1, 1);
  grid->addWidget(bar_, 1, 2, 1, 3);
  auto* col = new QVBoxLayout(this);
  col->setContentsMargins(4, 4, 4, 4);
  col->addLayout(grid);
  col->addWidget(status_);
  col->addWidget(chart_, 1);

  connect(fineTune_, &QPushButton::clicked, this, [this] {
    topiary::TrainOptions o;
    o.epochs = epochs_->value();
    o.lr = 0.01f;
    startFineTune(o);
  });
  connect(admm_, &QPushButton::clicked, this, [this] { startPruneJob("admm", epochs_->value()); });
  connect(dns_, &QPushButton::clicked, this, [this] { startPruneJob("dns", epochs_->value()); });
  connect(agp_, &QPushButton::clicked, this, [this] { startPruneJob("agp", epochs_->value()); });
  connect(bench_, &QPushButton::clicked, this, [this] { startBenchmark(); });
  connect(cancelButton_, &QPushButton::clicked, this, &JobPanel::cancel);
  // A job works on the model it started with: opening another one stops it
  // (its trained weights would otherwise replace the new model's).
  connect(doc_, &ModelDocument::modelChanged, this, [this] {
    if (!running_) return;
    modelSwitched_ = true;
    cancel();
  });
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
  ayLoss_->setRange(0, 1);
  start(r, tr("Fine-tune"));
}

QJsonObject JobPanel::pruneJobRecipe(const QString& method, int epochs, int maxBatches) const {
  QJsonObject r = doc_->plan().toRecipe();
  QJsonObject ft{{"epochs", epochs}, {"lr", 0.01}, {"data", "fashion-mnist:train"}};
  if (maxBatches > 0) ft["max_batches"] = maxBatches;
  r["finetune"] = ft;
  if (method == "agp") {
    r["method"] = "magnitude";
    r["schedule"] = QJsonObject{{"kind", "agp"}, {"steps", std::max(2, doc_->plan().global().scheduleSteps)}};
  } else {
    r["method"] = method;
    r["schedule"] = QJsonObject{{"kind", "one-shot"}};
  }
  return r;
}

void JobPanel::startPruneJob(const QString& method, int epochs, qint64 trainLimit, int maxBatches) {
  JobRequest r;
  r.kind = JobRequest::Kind::PruneRecipe;
  r.recipeJson = QJsonDocument(pruneJobRecipe(method, epochs, maxBatches)).toJson(QJsonDocument::Compact);
  r.trainLimit = trainLimit;
  r.masks.reset();  // the recipe computes its own masks
  loss_->clear();
  acc_->clear();
  valAcc_->clear();
  ax_->setRange(0, 1);
  start(r, method.toUpper());
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
  if (req.kind != JobRequest::Kind::PruneRecipe && doc_->hasPreview() && doc_->preview().plan == doc_->plan())
    req.masks = doc_->preview().masks;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  req.cancel = cancel_;
  running_ = true;
  modelSwitched_ = false;
  what_ = what;
  for (QPushButton* b : {fineTune_, admm_, dns_, agp_, bench_}) b->setEnabled(false);
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
    if (p.step > ax_->max()) ax_->setRange(0, std::ceil(p.step));
  }
}

void JobPanel::onFinished(const JobOutcome& o) {
  running_ = false;
  last_ = o;
  for (QPushButton* b : {fineTune_, admm_, dns_, agp_, bench_}) b->setEnabled(true);
  cancelButton_->setEnabled(false);
  bar_->setValue(o.ok ? 1000 : 0);
  bar_->setFormat(o.ok ? tr("done") : (o.cancelled ? tr("cancelled") : tr("failed")));
  status_->setText(modelSwitched_ ? tr("%1 stopped: another model was opened. %2").arg(what_, o.message) : o.message);
  if (!o.log.isEmpty()) status_->setToolTip(o.log.join("\n"));
  // A finished training job replaces the in-memory weights (never the file).
  if (o.ok && o.model && !modelSwitched_) doc_->replaceWeights(o.model, what_);
  modelSwitched_ = false;
  emit jobFinished(o);
}
