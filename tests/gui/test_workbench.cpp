// The workbench end to end on the demo model (offscreen): open it, edit a
// layer through the table model and watch the worker's preview change, undo,
// highlight a dependency group, start and cancel a fine-tune, export and
// compare with topiary-cli.
#include <QFileInfo>
#include <QProcess>
#include <QTableView>
#include <QtTest>

#include "Exporter.h"
#include "GraphScene.h"
#include "JobPanel.h"
#include "LayerTableModel.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "PreviewController.h"
#include "PreviewPanel.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/onnx_io.h"

class TestWorkbench : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void opensDemo();
  void tableEditChangesPreview();
  void undoRedoRestoresPlan();
  void selectingLayerHighlightsGroup();
  void fineTuneCancelKeepsWeights();
  void exportMatchesCli();
  void cleanupTestCase();

 private:
  // Waits for the preview of the document's current plan.
  bool waitForCurrentPreview(int timeoutMs = 60000);
  MainWindow* w_ = nullptr;
  QString model_;
};

void TestWorkbench::initTestCase() {
  guitest::isolateSettings();
  model_ = guitest::demoModelPath();
  QVERIFY2(!model_.isEmpty(), "no demo model and LeNet-5 could not be built");
  w_ = new MainWindow;
  w_->resize(1400, 900);
  w_->show();
}

void TestWorkbench::cleanupTestCase() { delete w_; }

bool TestWorkbench::waitForCurrentPreview(int timeoutMs) {
  ModelDocument* doc = w_->document();
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < timeoutMs) {
    if (doc->hasPreview() && doc->preview().plan == doc->plan() && !w_->previewController()->busy()) return true;
    QSignalSpy spy(w_->previewController(), &PreviewController::resultReady);
    spy.wait(1000);
  }
  return false;
}

void TestWorkbench::opensDemo() {
  QSignalSpy opened(w_, &MainWindow::modelOpened);
  w_->openModel(model_);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  ModelDocument* doc = w_->document();
  QVERIFY(doc->hasModel());
  const auto& m = *doc->model();
  // LeNet-5: conv1, conv2, fc1, fc2, fc3 carry prunable weights.
  QCOMPARE(w_->layerModel()->rowCount(), m.layers.size());
  QVERIFY(m.layers.size() >= 3);
  QCOMPARE(w_->graphScene()->nodeCount(), int(m.graph->nodes.size() + m.graph->inputs.size() + m.graph->outputs.size()));
  QVERIFY(w_->windowTitle().contains(QFileInfo(model_).fileName()));
  QVERIFY(waitForCurrentPreview());
  QVERIFY(doc->preview().accuracyValid);
  QCOMPARE(doc->preview().nonzeroParams, doc->preview().params);  // nothing pruned yet
  qInfo("dense preview: accuracy %.4f on %lld images, %.1f ms", doc->preview().accuracy,
        static_cast<long long>(doc->preview().samples), doc->preview().elapsedMs);
}

void TestWorkbench::tableEditChangesPreview() {
  ModelDocument* doc = w_->document();
  LayerTableModel* tm = w_->layerModel();
  const qint64 denseNonzeros = doc->preview().nonzeroParams;
  const QString layer = tm->layerAt(1);  // conv2 in LeNet-5
  const int undoBefore = doc->undoStack()->count();
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Sparsity), 0.5));
  QCOMPARE(doc->plan().layerPlan(layer).sparsity, 0.5);
  QCOMPARE(doc->undoStack()->count(), undoBefore + 1);
  QVERIFY(waitForCurrentPreview());
  const PreviewResult& p = doc->preview();
  qInfo("preview after %s at 50%%: %.1f ms, nonzeros %lld -> %lld, accuracy %.4f", qPrintable(layer), p.elapsedMs,
        static_cast<long long>(denseNonzeros), static_cast<long long>(p.nonzeroParams), p.accuracy);
  QVERIFY(p.nonzeroParams < denseNonzeros);
  QVERIFY2(p.layerSparsity.value(layer) > 0.4, qPrintable(QString::number(p.layerSparsity.value(layer))));
  QCOMPARE(p.layerSparsity.value(tm->layerAt(0)), 0.0);  // conv1 is not coupled to conv2's filters
  // The table shows the measured nonzeros of the layer.
  QCOMPARE(tm->data(tm->index(1, LayerTableModel::Nonzeros), Qt::EditRole).toLongLong(), p.layerNonzeros.value(layer));
  QVERIFY(!w_->previewPanel()->afterText("accuracy").isEmpty());
  QVERIFY(doc->tried().size() >= 2);
}

void TestWorkbench::undoRedoRestoresPlan() {
  ModelDocument* doc = w_->document();
  const QString layer = w_->layerModel()->layerAt(1);
  doc->undoStack()->undo();
  QCOMPARE(doc->plan().layerPlan(layer).sparsity, 0.0);
  QVERIFY(waitForCurrentPreview());
  QCOMPARE(doc->preview().nonzeroParams, doc->preview().params);
  doc->undoStack()->redo();
  QCOMPARE(doc->plan().layerPlan(layer).sparsity, 0.5);
  // A whole-model edit through the global control is one undo step too.
  const int n = doc->undoStack()->count();
  doc->editAllSparsity(0.3);
  QCOMPARE(doc->undoStack()->count(), n + 1);
  QCOMPARE(doc->plan().global().sparsity, 0.3);
  doc->undoStack()->undo();
  QCOMPARE(doc->plan().global().sparsity, 0.0);
  QVERIFY(waitForCurrentPreview());
}

void TestWorkbench::selectingLayerHighlightsGroup() {
  const auto& m = *w_->document()->model();
  const QString conv1 = m.layers.front().name;
  const int g = m.groupOfLayer(conv1);
  if (g < 0) QSKIP(qPrintable("no dependency group for " + conv1 + ": " + m.groupsError));
  QSet<QString> expected;
  for (const auto& grp : m.groups)
    if (grp.id == g)
      for (const auto& n : grp.members) expected.insert(QString::fromStdString(n));
  w_->selectLayer(m.layers.back().name);
  w_->selectLayer(conv1);
  QCOMPARE(w_->graphScene()->highlighted(), expected);
  QVERIFY(expected.contains(conv1));
  QVERIFY(expected.contains(m.layers[1].name));  // the next conv reads conv1's channels
  const QModelIndexList rows = w_->layerTable()->selectionModel()->selectedRows();
  QCOMPARE(rows.size(), 1);
  QCOMPARE(rows.first().row(), 0);
  w_->highlightGroup(-1);
  QVERIFY(w_->graphScene()->highlighted().isEmpty());
}

void TestWorkbench::fineTuneCancelKeepsWeights() {
  ModelDocument* doc = w_->document();
  auto before = doc->model();
  JobPanel* jobs = w_->jobPanel();
  QSignalSpy finished(jobs, &JobPanel::jobFinished);
  topiary::TrainOptions o;
  o.epochs = 3;
  o.batchSize = 32;
  jobs->startFineTune(o, 3000);
  QVERIFY(jobs->running());
  // Cancel once training has visibly started.
  QTRY_VERIFY_WITH_TIMEOUT(jobs->curvePoints() > 0 || finished.count() > 0, 60000);
  QElapsedTimer t;
  t.start();
  jobs->cancel();
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
  qInfo("fine-tune cancel took %lld ms", static_cast<long long>(t.elapsed()));
  QVERIFY(t.elapsed() < 1500);
  QVERIFY(jobs->lastOutcome().cancelled);
  QCOMPARE(doc->model().get(), before.get());
  // The in-memory weights are those of the file.
  auto reloaded = topiary::loadModel(model_.toStdString());
  QVERIFY(reloaded);
  for (const auto& kv : doc->model()->graph->initializers) {
    const topiary::Tensor& a = kv.second;
    const topiary::Tensor& b = reloaded->initializers.at(kv.first);
    QCOMPARE(testutil::maxAbsDiff(a, b), 0.0);
  }
}

void TestWorkbench::exportMatchesCli() {
  ModelDocument* doc = w_->document();
  LayerTableModel* tm = w_->layerModel();
  QVERIFY(tm->setData(tm->index(0, LayerTableModel::Sparsity), 0.5));
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Granularity), "element"));
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Sparsity), 0.7));
  const QString dir = QString::fromStdString(testutil::tempDir());
  const QString out = dir + "/gui-pruned.onnx";
  ExportResult r = Exporter::exportModel(*doc->model(), doc->plan(), out);
  QVERIFY2(r.ok, qPrintable(r.error));
  QVERIFY(QFileInfo::exists(r.recipePath));
  QVERIFY(r.nonzeroParams < doc->model()->graph->nonzeroParamCount());
  // The source is never overwritten.
  ExportResult bad = Exporter::exportModel(*doc->model(), doc->plan(), doc->model()->path);
  QVERIFY(!bad.ok);
  QVERIFY(bad.error.contains("source"));
  auto gui = topiary::loadModel(out.toStdString());
  QVERIFY(gui);
  QCOMPARE(qint64(gui->nonzeroParamCount()), r.nonzeroParams);

  const QString cli = QStringLiteral(TOPIARY_CLI);
  if (!QFileInfo::exists(cli)) QSKIP("topiary-cli not built");
  QProcess p;
  const QString cliOut = dir + "/cli-pruned.onnx";
  p.start(cli, {"prune", doc->model()->path, "--recipe", r.recipePath, "--out", cliOut});
  QVERIFY(p.waitForFinished(120000));
  QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
  auto viaCli = topiary::loadModel(cliOut.toStdString());
  QVERIFY(viaCli);
  QCOMPARE(viaCli->initializers.size(), gui->initializers.size());
  for (const auto& kv : gui->initializers) {
    QVERIFY2(viaCli->initializers.count(kv.first), kv.first.c_str());
    QCOMPARE(testutil::maxAbsDiff(kv.second, viaCli->initializers.at(kv.first)), 0.0);
  }
}

QTEST_MAIN(TestWorkbench)
#include "test_workbench.moc"
