#include "PreviewPanel.h"

#include <QFrame>
#include <QGridLayout>
#include <QLabel>
#include <QTabWidget>
#include <QVBoxLayout>

#include "LayerTableModel.h"
#include "ModelDocument.h"
#include "ParetoChart.h"

namespace {

QString bytesText(double b) {
  if (b >= 1024 * 1024) return QString::number(b / (1024 * 1024), 'f', 2) + " MB";
  if (b >= 1024) return QString::number(b / 1024, 'f', 1) + " KB";
  return QString::number(qint64(b)) + " B";
}

// "-42.0%" style relative change, or "" when either side is unknown.
QString ratioText(double before, double after) {
  if (before <= 0 || after < 0) return {};
  double pct = (after / before - 1) * 100;
  return QString("%1%2%").arg(pct > 0 ? "+" : "").arg(pct, 0, 'f', 1);
}

}  // namespace

PreviewPanel::PreviewPanel(ModelDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
  auto* card = new QFrame(this);
  card->setFrameShape(QFrame::StyledPanel);
  grid_ = new QGridLayout(card);
  grid_->setHorizontalSpacing(14);
  grid_->setVerticalSpacing(2);
  rows_ = {"accuracy", "size", "nonzeros", "flops", "latency"};
  const QStringList titles = {tr("Accuracy"), tr("Size"), tr("Nonzero params"), tr("FLOPs"), tr("Latency")};
  auto header = [&](const QString& t, int col) {
    auto* l = new QLabel("<b>" + t + "</b>", card);
    l->setAlignment(Qt::AlignRight);
    grid_->addWidget(l, 0, col);
  };
  header(tr("before"), 1);
  header(tr("after"), 2);
  header(tr("change"), 3);
  for (int i = 0; i < rows_.size(); ++i) {
    grid_->addWidget(new QLabel(titles[i], card), i + 1, 0);
    for (auto* v : {&before_, &after_, &change_}) {
      auto* l = new QLabel("-", card);
      l->setAlignment(Qt::AlignRight);
      l->setTextInteractionFlags(Qt::TextSelectableByMouse);
      v->push_back(l);
      grid_->addWidget(l, i + 1, v == &before_ ? 1 : v == &after_ ? 2 : 3);
    }
  }
  grid_->setColumnStretch(0, 1);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  tabs_ = new QTabWidget(this);
  sizeChart_ = new ParetoChart(ParetoChart::Cost::SizeKB);
  latencyChart_ = new ParetoChart(ParetoChart::Cost::LatencyMs);
  tabs_->addTab(sizeChart_, tr("Accuracy vs size"));
  tabs_->addTab(latencyChart_, tr("Accuracy vs latency"));
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 4, 4, 4);
  lay->addWidget(card);
  lay->addWidget(status_);
  lay->addWidget(tabs_, 1);
  connect(sizeChart_, &ParetoChart::pointClicked, this, &PreviewPanel::restoreRequested);
  connect(latencyChart_, &ParetoChart::pointClicked, this, &PreviewPanel::restoreRequested);
  connect(doc_, &ModelDocument::previewChanged, this, &PreviewPanel::refreshCard);
  connect(doc_, &ModelDocument::triedChanged, this, &PreviewPanel::refreshCharts);
  connect(doc_, &ModelDocument::previewChanged, this, &PreviewPanel::refreshCharts);
  refreshCard();
}

QString PreviewPanel::afterText(const QString& row) const {
  int i = rows_.indexOf(row);
  return i < 0 ? QString() : after_[i]->text();
}

QString PreviewPanel::statusText() const { return status_->text(); }

void PreviewPanel::setBusy(bool busy) {
  if (busy) status_->setText(tr("Computing preview..."));
}

void PreviewPanel::showError(const QString& message) {
  status_->setText(tr("<span style='color:#b03020'>Preview failed: %1</span>").arg(message.toHtmlEscaped()));
}

void PreviewPanel::refreshCard() {
  const PreviewResult& b = doc_->baseline();
  const PreviewResult& a = doc_->preview();
  auto fill = [&](int row, const QString& bt, const QString& at, const QString& ct) {
    before_[row]->setText(bt.isEmpty() ? "-" : bt);
    after_[row]->setText(at.isEmpty() ? "-" : at);
    change_[row]->setText(ct);
  };
  auto acc = [](const PreviewResult& r) {
    if (!r.ok || !r.accuracyValid) return QString();
    // An estimate shows its standard error and one decimal fewer: the
    // second decimal means nothing on a few hundred images.
    if (r.estimate)
      return QString("%1% \u00b1 %2").arg(r.accuracy * 100, 0, 'f', 1).arg(r.accuracyStdErr * 100, 0, 'f', 1);
    return QString::number(r.accuracy * 100, 'f', 2) + "%";
  };
  auto lat = [](const PreviewResult& r) {
    return r.ok && r.latencyMs >= 0 ? QString::number(r.latencyMs, 'f', 3) + " ms" : QString();
  };
  QString accChange;
  if (a.ok && b.ok && a.accuracyValid && b.accuracyValid)
    accChange = QString("%1%2 pt")
                    .arg(a.accuracy >= b.accuracy ? "+" : "")
                    .arg((a.accuracy - b.accuracy) * 100, 0, 'f', a.estimate || b.estimate ? 1 : 2);
  fill(0, acc(b), acc(a), accChange);
  fill(1, b.ok ? bytesText(double(b.storageBytes)) : QString(), a.ok ? bytesText(double(a.storageBytes)) : QString(),
       a.ok && b.ok ? ratioText(double(b.storageBytes), double(a.storageBytes)) : QString());
  fill(2, b.ok ? LayerTableModel::formatCount(double(b.nonzeroParams)) : QString(),
       a.ok ? LayerTableModel::formatCount(double(a.nonzeroParams)) : QString(),
       a.ok && b.ok ? ratioText(double(b.nonzeroParams), double(a.nonzeroParams)) : QString());
  // Unmeasured FLOPs read "-", not 0 (a model with an operator the engine lacks).
  auto flops = [](const PreviewResult& r) {
    return r.ok && r.flopsKnown ? LayerTableModel::formatCount(r.effectiveFlops) : QString();
  };
  fill(3, flops(b), flops(a),
       a.ok && b.ok && a.flopsKnown && b.flopsKnown ? ratioText(b.effectiveFlops, a.effectiveFlops) : QString());
  fill(4, lat(b), lat(a), a.ok && b.ok ? ratioText(b.latencyMs, a.latencyMs) : QString());
  if (a.ok) {
    QString s;
    if (a.estimate)
      s = tr("Estimate in %1 ms: accuracy %2 \u00b1 %3 on %4 images (one standard error); refining on %5...")
              .arg(a.elapsedMs, 0, 'f', 0)
              .arg(a.accuracy, 0, 'f', 3)
              .arg(a.accuracyStdErr, 0, 'f', 3)
              .arg(a.samples)
              .arg(a.totalSamples);
    else if (a.firstStageMs > 0)
      s = tr("Preview in %1 ms on %2 images (first estimate after %3 ms); size as %4.")
              .arg(a.elapsedMs, 0, 'f', 0)
              .arg(a.samples)
              .arg(a.firstStageMs, 0, 'f', 0)
              .arg(a.storageName);
    else
      s = tr("Preview in %1 ms on %2 images; size as %3.").arg(a.elapsedMs, 0, 'f', 0).arg(a.samples).arg(a.storageName);
    QStringList notes;
    for (const QString& n : a.notes) notes << n.toHtmlEscaped();
    if (!notes.isEmpty()) s += "<br><small>" + notes.join("<br>") + "</small>";
    status_->setText(s);
  } else if (!a.error.isEmpty()) {
    showError(a.error);
  }
}

void PreviewPanel::refreshCharts() {
  const QVector<TriedPoint>& t = doc_->tried();
  int current = -1;
  for (int i = 0; i < t.size(); ++i)
    if (t[i].plan == doc_->plan()) current = i;
  // A first-stage estimate shows as its own point with its error bar until
  // the final numbers make it a tried point.
  const PreviewResult& a = doc_->preview();
  TriedPoint pending;
  const bool estimating = a.ok && a.estimate && a.accuracyValid;
  if (estimating) {
    pending.accuracy = a.accuracy;
    pending.storageBytes = a.storageBytes;
    pending.latencyMs = a.latencyMs;
  }
  sizeChart_->setPoints(t, current, estimating ? &pending : nullptr, a.accuracyStdErr);
  latencyChart_->setPoints(t, current, estimating ? &pending : nullptr, a.accuracyStdErr);
}
