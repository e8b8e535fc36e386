// Opening another model while the workbench is busy (offscreen): a model that
// fails to load keeps the one on screen and leaves nothing behind for the
// next open (a session's plan), a training job still running on the previous
// model never pours its weights into the new one (nor a sensitivity sweep
// its curves and sparsities), and an undo step that
// merges back to where it started disappears, while two separate edits of one
// control (two editors opened on a cell, two numbers entered) stay two steps.
#include <QApplication>
#include <QChartView>
#include <QComboBox>
#include <QDialog>
#include <QDoubleSpinBox>
#include <QFile>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "GlobalControls.h"
#include "JobPanel.h"
#include "LayerTableModel.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "SessionStore.h"
#include "SparsityEditor.h"
#include "analysis/SensitivityView.h"
#include "analysis/VerdictView.h"
#include "gui_util.h"

namespace {

// Closes every modal dialog (the "could not open" warning) as it appears, so
// the test never blocks on one; counts how many it closed.
class DialogCloser : public QObject {
 public:
  explicit DialogCloser(QObject* parent) : QObject(parent) {
    connect(&timer_, &QTimer::timeout, this, [this] {
      if (auto* d = qobject_cast<QDialog*>(QApplication::activeModalWidget())) {
        titles << d->windowTitle();
        d->reject();
      }
    });
    timer_.start(20);
  }
  QStringList titles;

 private:
  QTimer timer_;
};

}  // namespace

class TestSwitching : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void truncatedModelKeepsPrevious();
  void failedSessionIsNotAppliedLater();
  void jobOfPreviousModelIsDropped();
  void editBackToStartLeavesNoUndoStep();
  void separateEditsAreSeparateUndoSteps();
  void sensitivityOfPreviousModelIsDropped();
  void verdictOfPreviousModelIsDropped();
  void cleanupTestCase();

 private:
  bool open(const QString& path);
  MainWindow* w_ = nullptr;
  DialogCloser* closer_ = nullptr;
  QTemporaryDir dir_;
  QString demo_;
};

void TestSwitching::initTestCase() {
  guitest::isolateSettings();
  QVERIFY(dir_.isValid());
  demo_ = guitest::demoModelPath();
  QVERIFY(!demo_.isEmpty());
  w_ = new MainWindow;
  w_->show();
  closer_ = new DialogCloser(this);
  QVERIFY(open(demo_));
}

void TestSwitching::cleanupTestCase() { delete w_; }

bool TestSwitching::open(const QString& path) {
  QSignalSpy opened(w_, &MainWindow::modelOpened);
  w_->openModel(path);
  return opened.wait(30000) || opened.count() > 0;
}

void TestSwitching::truncatedModelKeepsPrevious() {
  QFile src(demo_);
  QVERIFY(src.open(QIODevice::ReadOnly));
  const QByteArray bytes = src.readAll();
  const QString bad = dir_.filePath("truncated.onnx");
  QFile out(bad);
  QVERIFY(out.open(QIODevice::WriteOnly));
  out.write(bytes.left(bytes.size() / 2));
  out.close();
  auto before = w_->document()->model();
  QSignalSpy failed(w_, &MainWindow::openFailed);
  w_->openModel(bad);
  QVERIFY(failed.wait(30000));
  QVERIFY(!failed.first().first().toString().isEmpty());
  QCOMPARE(w_->document()->model(), before);
  QVERIFY(w_->windowTitle().endsWith(QFileInfo(demo_).fileName()));
  QTRY_VERIFY_WITH_TIMEOUT(closer_->titles.contains("Could not open model"), 5000);
}

void TestSwitching::failedSessionIsNotAppliedLater() {
  // A session whose model cannot be read: its plan must not land on the next
  // model the user opens.
  const QString bad = dir_.filePath("garbage.onnx");
  QFile out(bad);
  QVERIFY(out.open(QIODevice::WriteOnly));
  out.write("not an onnx model at all");
  out.close();
  PrunePlan plan;
  GlobalPlan g = plan.global();
  g.sparsity = 0.5;
  plan.setGlobal(g);
  QJsonObject session{{"format", "topiary-session"}, {"version", 1}, {"model", bad}, {"recipe", plan.toRecipe()}};
  const QString sessionPath = dir_.filePath("bad.topiary");
  QString err;
  QVERIFY2(SessionStore::writeJson(session, sessionPath, &err), qPrintable(err));
  QSignalSpy failed(w_, &MainWindow::openFailed);
  QVERIFY2(w_->openSession(sessionPath, &err), qPrintable(err));
  QVERIFY(failed.wait(30000));
  QVERIFY(open(demo_));
  QCOMPARE(w_->document()->plan(), PrunePlan());
}

void TestSwitching::jobOfPreviousModelIsDropped() {
  ModelDocument* doc = w_->document();
  JobPanel* jobs = w_->jobPanel();
  QVERIFY(open(demo_));
  const QString other = QFINDTESTDATA(TOPIARY_SOURCE_DIR "/resources/models/lenet-300-100.onnx");
  QVERIFY(!other.isEmpty());
  QSignalSpy finished(jobs, &JobPanel::jobFinished);
  topiary::TrainOptions o;
  o.epochs = 1;
  jobs->startFineTune(o, 2000);
  QVERIFY(jobs->running());
  QVERIFY(open(other));
  auto opened = doc->model();
  QVERIFY(finished.count() > 0 || finished.wait(120000));
  QTest::qWait(50);
  // The document still holds the model the user opened, untouched.
  QCOMPARE(doc->model(), opened);
  QVERIFY(!doc->weightsModified());
  QCOMPARE(doc->undoStack()->count(), 0);
}

void TestSwitching::editBackToStartLeavesNoUndoStep() {
  QVERIFY(open(demo_));
  ModelDocument* doc = w_->document();
  LayerTableModel* tm = w_->layerModel();
  const QModelIndex cell = tm->index(0, LayerTableModel::Sparsity);
  // The layer gets its own plan first (one undo step of its own).
  QVERIFY(tm->setData(tm->index(0, LayerTableModel::Criterion), "l2"));
  QCOMPARE(doc->undoStack()->count(), 1);
  const PrunePlan start = doc->plan();
  // A slider dragged up and back: every step is committed live and merges
  // into one undo step, which is no step at all once back at the start.
  QVERIFY(tm->setData(cell, 0.3));
  QVERIFY(tm->setData(cell, 0.5));
  QCOMPARE(doc->undoStack()->count(), 2);
  QVERIFY(tm->setData(cell, 0.0));
  QCOMPARE(doc->plan(), start);
  // Ctrl+Z must do something visible: it undoes the criterion.
  QCOMPARE(doc->undoStack()->count(), 1);
  doc->undoStack()->undo();
  QCOMPARE(doc->plan().layerPlan(tm->layerAt(0)).criterion, QString("l1"));
}

void TestSwitching::separateEditsAreSeparateUndoSteps() {
  QVERIFY(open(demo_));
  ModelDocument* doc = w_->document();
  QUndoStack* undo = doc->undoStack();
  LayerTableModel* tm = w_->layerModel();
  QTableView* table = w_->layerTable();
  const QString layer = tm->layerAt(0);
  const QModelIndex cell = tm->index(0, LayerTableModel::Sparsity);
  // Opens the cell's editor, enters each of `percents` in turn (each commits
  // live, as a slider drag does) and closes it with Enter.
  auto editCell = [&](const QList<double>& percents) {
    table->setCurrentIndex(cell);
    table->edit(cell);
    auto* spin = table->indexWidget(cell) ? table->indexWidget(cell)->findChild<QDoubleSpinBox*>() : nullptr;
    QVERIFY(spin);
    for (double p : percents) spin->setValue(p);
    QTest::keyClick(spin, Qt::Key_Return);
    QTRY_VERIFY(!table->indexWidget(cell));
  };
  const int before = undo->count();
  editCell({20, 30});  // one editor: one step
  if (QTest::currentTestFailed()) return;
  QCOMPARE(undo->count(), before + 1);
  editCell({50});  // a second editor on the same cell: a step of its own
  if (QTest::currentTestFailed()) return;
  QCOMPARE(undo->count(), before + 2);
  QCOMPARE(doc->plan().layerPlan(layer).sparsity, 0.5);
  undo->undo();
  QCOMPARE(doc->plan().layerPlan(layer).sparsity, 0.3);
  undo->undo();
  QCOMPARE(doc->plan().layerPlan(layer).sparsity, 0.0);

  // The same for the all-layers control: two numbers entered, two steps.
  auto* all = w_->globalControls()->sparsity()->findChild<QDoubleSpinBox*>();
  QVERIFY(all);
  const int beforeAll = undo->index();  // the two steps above were undone
  for (double p : {40.0, 60.0}) {
    all->setValue(p);
    QTest::keyClick(all, Qt::Key_Return);
  }
  QCOMPARE(undo->index(), beforeAll + 2);
  undo->undo();
  QCOMPARE(doc->plan().global().sparsity, 0.4);

  // And two choices of the default granularity.
  QComboBox* granularity = w_->globalControls()->granularity();
  const QString start = doc->plan().global().granularity;
  QStringList others;
  for (int i = 0; i < granularity->count(); ++i)
    if (granularity->itemText(i) != start &&
        (granularity->model()->flags(granularity->model()->index(i, 0)) & Qt::ItemIsEnabled))
      others << granularity->itemText(i);
  QVERIFY(others.size() >= 2);
  const int beforeChoice = undo->index();
  granularity->setCurrentText(others[0]);
  granularity->setCurrentText(others[1]);
  QCOMPARE(undo->index(), beforeChoice + 2);
  undo->undo();
  QCOMPARE(doc->plan().global().granularity, others[0]);
}

void TestSwitching::sensitivityOfPreviousModelIsDropped() {
  // The sweep runs on the model it started with; once another is open its
  // curves would be shown for, and "apply all" would set sparsities on, the
  // new model's layers (lenet5 and lenet5-caffe share layer names).
  QVERIFY(open(demo_));
  ModelDocument* doc = w_->document();
  SensitivityView view(doc);
  view.setData("fashion-mnist", 200);
  view.setSparsities({0.3, 0.6, 0.9});
  view.setGranularity("element");
  QSignalSpy done(&view, &SensitivityView::finished);
  view.compute();
  QVERIFY(view.busy());
  QVERIFY(open(QFINDTESTDATA(TOPIARY_SOURCE_DIR "/resources/models/lenet5-caffe.onnx")));
  QVERIFY(done.count() > 0 || done.wait(120000));
  QTRY_VERIFY_WITH_TIMEOUT(!view.busy(), 30000);
  QVERIFY(view.result() == nullptr);
  QCOMPARE(view.applyAllAtTolerance(), 0);
  QCOMPARE(doc->plan(), PrunePlan());
  QVERIFY(view.chartView()->chart()->series().isEmpty());
}

void TestSwitching::verdictOfPreviousModelIsDropped() {
  QVERIFY(open(demo_));
  VerdictView view(w_->document());
  view.setData("fashion-mnist", 200);
  view.setLatencyRuns(3);
  QSignalSpy done(&view, &VerdictView::finished);
  view.compute();
  QVERIFY(view.busy());
  QVERIFY(open(QFINDTESTDATA(TOPIARY_SOURCE_DIR "/resources/models/lenet5-caffe.onnx")));
  QVERIFY(done.count() > 0 || done.wait(120000));
  QTRY_VERIFY_WITH_TIMEOUT(!view.busy(), 30000);
  QVERIFY(view.verdict() == nullptr);
  QVERIFY(view.charts().isEmpty());
}

QTEST_MAIN(TestSwitching)
#include "test_switching.moc"
