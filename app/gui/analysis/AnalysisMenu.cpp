#include "AnalysisMenu.h"

#include <QDockWidget>
#include <QFileDialog>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "AnalysisJob.h"
#include "DynamicView.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "ReportExporter.h"
#include "SensitivityView.h"
#include "TeachingTour.h"
#include "VerdictView.h"

AnalysisMenu::AnalysisMenu(MainWindow* w) : QObject(w), window_(w) {
  sensitivity_ = new SensitivityView(w->document(), w);
  verdict_ = new VerdictView(w->document(), w);
  dynamic_ = new DynamicView(w->document(), w);
  teaching_ = new TeachingTour(w->document(), w);
  exporter_ = new ReportExporter(w->document(), this);
  QDockWidget* s = dock(sensitivity_, tr("Sensitivity"), "SensitivityDock");
  QDockWidget* v = dock(verdict_, tr("Unstructured: Worth It?"), "VerdictDock");
  QDockWidget* d = dock(dynamic_, tr("Dynamic Pruning"), "DynamicDock");
  QDockWidget* t = dock(teaching_, tr("Teaching Tour"), "TeachingDock");
  w->tabifyDockWidget(s, v);
  w->tabifyDockWidget(v, d);

  QMenu* m = w->menuBar()->addMenu(tr("&Analysis"));
  m->addAction(tr("&Sensitivity..."), this, [this] { show(sensitivity_); });
  m->addAction(tr("Is &Unstructured Pruning Worth It?..."), this, [this] { show(verdict_); });
  m->addAction(tr("&Dynamic Pruning..."), this, [this] { show(dynamic_); });
  m->addAction(tr("&Teaching Tour..."), this, [this] {
    show(teaching_);
    if (teaching_->current() < 0) teaching_->goTo(0);
  });
  m->addSeparator();
  m->addAction(tr("Export &Report..."), this, &AnalysisMenu::exportDialog);
  for (QDockWidget* x : {s, v, d, t}) x->hide();
  connect(exporter_->job(), &AnalysisJob::progress, this, [this](double f, const QString& text) {
    window_->statusBar()->showMessage(tr("Report: %1 (%2%)").arg(text).arg(int(f * 100)));
  });
  connect(exporter_, &ReportExporter::finished, this, [this](bool ok, const QString& msg) {
    window_->statusBar()->clearMessage();
    if (ok)
      QMessageBox::information(window_, tr("Report"), tr("The report was written."));
    else
      QMessageBox::warning(window_, tr("Report"), tr("The report could not be written: %1").arg(msg));
  });
}

QDockWidget* AnalysisMenu::dock(QWidget* view, const QString& title, const QString& objectName) {
  auto* d = new QDockWidget(title, window_);
  d->setObjectName(objectName);
  d->setWidget(view);
  window_->addDockWidget(Qt::BottomDockWidgetArea, d);
  return d;
}

void AnalysisMenu::show(QWidget* view) {
  if (auto* d = qobject_cast<QDockWidget*>(view->parentWidget())) {
    d->show();
    d->raise();
  }
}

void AnalysisMenu::exportDialog() {
  if (!window_->document()->hasModel()) return;
  const QString dir = QFileDialog::getExistingDirectory(window_, tr("Write the report into folder"));
  if (dir.isEmpty()) return;
  if (!exporter_->exportTo(dir))
    QMessageBox::information(window_, tr("Report"), tr("A report is already being written."));
}
