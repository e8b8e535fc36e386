// Session files on the demo model (offscreen): save and reopen a .topiary
// session (model path, plan including what locked and N:M layers hold, tried
// points, fine-tuned weights with the fallback when their file is missing,
// damaged or of another graph), autosave a moment after a change,
// recovery offered when a crashed run left its autosave behind, errors that
// name the problem; window/dock state kept across starts; drag and drop.
#include <QAction>
#include <QApplication>
#include <QCryptographicHash>
#include <QDialog>
#include <QDockWidget>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QtTest>

#include "LayerTableModel.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "PreviewController.h"
#include "SessionStore.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/onnx_io.h"

namespace {

using testutil::weightDiff;

QByteArray fileHash(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

}  // namespace

class TestSessions : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void saveAndReopen();
  void lockedAndNmLayersKeepTheirPlan();
  void fineTunedWeightsReopen();
  void missingOrDamagedWeightsFallBack();
  void weightsOfAnotherGraphFallBack();
  void autosaveAfterChange();
  void failedAutosaveDoesNotInterrupt();
  void saveAsAsksBeforeReplacing();
  void recoveryAfterCrash();
  void cleanExitLeavesNoRecovery();
  void badSessionsNameTheProblem();
  void windowStateRestored();
  void dropOpensModel();

 private:
  // A window with the demo open and two tried configurations.
  std::unique_ptr<MainWindow> openDemo();
  bool waitPreview(MainWindow& w);
  // The demo with changed weights, applied as a finished training job applies
  // them (one undo step), saved to `path`; false on failure.
  bool saveFineTuned(MainWindow& w, const QString& path, std::shared_ptr<const LoadedModel>& fineTuned);
  // Opens the session at `path` in `w` and waits until its model is open.
  bool openAndWait(MainWindow& w, const QString& path);
  QString dir_;
};

void TestSessions::initTestCase() {
  guitest::isolateSettings();
  dir_ = QString::fromStdString(testutil::tempDir());
}

bool TestSessions::waitPreview(MainWindow& w) {
  ModelDocument* doc = w.document();
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < 30000) {
    if (doc->hasPreview() && doc->preview().plan == doc->plan() && !w.previewController()->busy()) return true;
    QSignalSpy spy(w.previewController(), &PreviewController::resultReady);
    spy.wait(500);
  }
  return false;
}

std::unique_ptr<MainWindow> TestSessions::openDemo() {
  auto w = std::make_unique<MainWindow>();
  QSignalSpy opened(w.get(), &MainWindow::modelOpened);
  w->openModel(guitest::demoModelPath());
  if (!opened.wait(30000) && opened.isEmpty()) return nullptr;
  return w;
}

void TestSessions::saveAndReopen() {
  auto w = openDemo();
  QVERIFY(w);
  ModelDocument* doc = w->document();
  QVERIFY(waitPreview(*w));
  LayerTableModel* tm = w->layerModel();
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Granularity), "2:4"));
  QVERIFY(waitPreview(*w));
  QVERIFY(tm->setData(tm->index(2, LayerTableModel::Sparsity), 0.4));
  QVERIFY(waitPreview(*w));
  QVERIFY(doc->tried().size() >= 3);
  const PrunePlan plan = doc->plan();
  const QVector<TriedPoint> tried = doc->tried();
  const QString path = dir_ + "/saved.topiary";
  QString err;
  QVERIFY2(w->sessions()->save(path, &err), qPrintable(err));
  QJsonObject json;
  QVERIFY(SessionStore::readJson(path, json, &err));
  QCOMPARE(json["model"].toString(), QFileInfo(guitest::demoModelPath()).absoluteFilePath());
  QCOMPARE(json["tried"].toArray().size(), tried.size());

  MainWindow again;
  QSignalSpy opened(&again, &MainWindow::modelOpened);
  QVERIFY2(again.openSession(path, &err), qPrintable(err));
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  QVERIFY(again.document()->plan() == plan);
  QCOMPARE(again.document()->plan().layerPlan(tm->layerAt(1)).granularity, QString("nm"));
  QCOMPARE(again.document()->tried().size(), tried.size());
  for (int i = 0; i < tried.size(); ++i) {
    QVERIFY(again.document()->tried()[i].plan == tried[i].plan);
    QCOMPARE(again.document()->tried()[i].accuracy, tried[i].accuracy);
    QCOMPARE(again.document()->tried()[i].storageBytes, tried[i].storageBytes);
  }
}

void TestSessions::lockedAndNmLayersKeepTheirPlan() {
  auto w = openDemo();
  QVERIFY(w);
  ModelDocument* doc = w->document();
  LayerTableModel* tm = w->layerModel();
  const int last = tm->rowCount() - 1;
  QVERIFY(last >= 2);
  doc->editAllSparsity(0.3);
  // The first layer: element-wise at 60%, then locked (it keeps its 60%).
  QVERIFY(tm->setData(tm->index(0, LayerTableModel::Granularity), "element"));
  QVERIFY(tm->setData(tm->index(0, LayerTableModel::Sparsity), 0.6));
  QVERIFY(tm->setData(tm->index(0, LayerTableModel::Lock), Qt::Checked, Qt::CheckStateRole));
  // The second: 45%, then 2:4 (the pattern fixes what is pruned; the 45% is
  // what it returns to on another granularity).
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Sparsity), 0.45));
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Granularity), "2:4"));
  // The last: 70%, locked.
  QVERIFY(tm->setData(tm->index(last, LayerTableModel::Sparsity), 0.7));
  QVERIFY(tm->setData(tm->index(last, LayerTableModel::Lock), Qt::Checked, Qt::CheckStateRole));
  QVERIFY(waitPreview(*w));
  const PrunePlan plan = doc->plan();
  QCOMPARE(plan.layerPlan(tm->layerAt(0)).sparsity, 0.6);
  QVERIFY(plan.layerPlan(tm->layerAt(0)).locked);
  QCOMPARE(plan.layerPlan(tm->layerAt(1)).granularity, QString("nm"));
  QCOMPARE(plan.layerPlan(tm->layerAt(1)).sparsity, 0.45);
  QCOMPARE(plan.layerPlan(tm->layerAt(last)).sparsity, 0.7);
  const QVector<TriedPoint> tried = doc->tried();
  QVERIFY(!tried.isEmpty());
  QVERIFY(std::any_of(tried.begin(), tried.end(), [&](const TriedPoint& p) { return p.plan == plan; }));

  const QString path = dir_ + "/locked.topiary";
  QString err;
  QSignalSpy saved(w->sessions(), &SessionStore::saved);
  QVERIFY2(w->sessions()->save(path, &err), qPrintable(err));
  QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 30000);
  // The recipe still says what is pruned (topiary-cli reads it): nothing of a
  // locked layer; the held sparsities are beside it.
  QJsonObject json;
  QVERIFY(SessionStore::readJson(path, json, &err));
  const QJsonObject first = json["recipe"].toObject()["layers"].toObject()[tm->layerAt(0)].toObject();
  QCOMPARE(first["sparsity"].toDouble(-1), 0.0);
  QVERIFY(first["locked"].toBool());
  QCOMPARE(json["held_sparsity"].toObject()[tm->layerAt(0)].toDouble(), 0.6);

  MainWindow again;
  QVERIFY(openAndWait(again, path));
  const PrunePlan& back = again.document()->plan();
  for (const LayerInfo& li : again.document()->model()->layers) {
    const LayerPlan a = plan.layerPlan(li.name), b = back.layerPlan(li.name);
    QVERIFY2(a.sparsity == b.sparsity, qPrintable(li.name + ": sparsity " + QString::number(b.sparsity) +
                                                  " instead of " + QString::number(a.sparsity)));
    QCOMPARE(b.granularity, a.granularity);
    QCOMPARE(b.locked, a.locked);
    QCOMPARE(b.criterion, a.criterion);
    QCOMPARE(b.n, a.n);
    QCOMPARE(b.m, a.m);
    QCOMPARE(back.hasOwnPlan(li.name), plan.hasOwnPlan(li.name));
  }
  QVERIFY(back == plan);
  QCOMPARE(again.document()->tried().size(), tried.size());
  for (int i = 0; i < tried.size(); ++i) QVERIFY(again.document()->tried()[i].plan == tried[i].plan);
  // Unlocking brings back what the layer held.
  LayerTableModel* atm = again.layerModel();
  QVERIFY(atm->setData(atm->index(0, LayerTableModel::Lock), Qt::Unchecked, Qt::CheckStateRole));
  QCOMPARE(again.document()->plan().layerPlan(atm->layerAt(0)).sparsity, 0.6);
}

bool TestSessions::saveFineTuned(MainWindow& w, const QString& path, std::shared_ptr<const LoadedModel>& fineTuned) {
  ModelDocument* doc = w.document();
  topiary::Graph g = *doc->model()->graph;
  for (auto& [name, t] : g.initializers)
    if (t.dtype() == topiary::DType::Float)
      for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = t.at(i) * 0.5f + 0.01f;
  fineTuned = LoadedModel::fromGraph(std::move(g), doc->model()->path);
  // What JobPanel does with a finished fine-tune.
  doc->replaceWeights(fineTuned, "Fine-tune");
  if (!doc->weightsModified() || doc->model() != fineTuned) return false;
  QSignalSpy saved(w.sessions(), &SessionStore::saved);
  QSignalSpy failed(w.sessions(), &SessionStore::saveFailed);
  QString err;
  if (!w.sessions()->save(path, &err)) return false;
  QElapsedTimer t;
  t.start();
  while (saved.isEmpty() && failed.isEmpty() && t.elapsed() < 30000) saved.wait(200);
  return saved.count() == 1 && failed.isEmpty();
}

bool TestSessions::openAndWait(MainWindow& w, const QString& path) {
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  QString err;
  if (!w.openSession(path, &err)) return false;
  QElapsedTimer t;
  t.start();
  while (opened.isEmpty() && t.elapsed() < 30000) opened.wait(200);
  return opened.count() == 1;
}

void TestSessions::fineTunedWeightsReopen() {
  const QString model = guitest::demoModelPath();
  const QByteArray sourceHash = fileHash(model);
  QVERIFY(!sourceHash.isEmpty());
  auto w = openDemo();
  QVERIFY(w);
  const std::shared_ptr<const LoadedModel> original = w->document()->model();
  w->document()->editAllSparsity(0.4);
  QVERIFY(waitPreview(*w));
  std::shared_ptr<const LoadedModel> fineTuned;
  const QString path = dir_ + "/fine.topiary";
  QVERIFY(saveFineTuned(*w, path, fineTuned));
  QVERIFY(waitPreview(*w));  // a tried point on the new weights
  QVERIFY(weightDiff(*fineTuned->graph, *original->graph) > 0.001);
  const QString weights = SessionStore::weightsPathFor(path);
  QCOMPARE(weights, dir_ + "/fine.weights.onnx");
  QVERIFY(QFile::exists(weights));
  QJsonObject json;
  QString err;
  QVERIFY(SessionStore::readJson(path, json, &err));
  QCOMPARE(json["weights"].toString(), QString("fine.weights.onnx"));
  QCOMPARE(json["model"].toString(), QFileInfo(model).absoluteFilePath());
  // Saved again: the plan and tried points change, the weights are not written again.
  QVERIFY2(w->sessions()->save(path, &err), qPrintable(err));
  QVERIFY(!w->sessions()->busy());
  const PrunePlan plan = w->document()->plan();
  const QVector<TriedPoint> tried = w->document()->tried();
  QVERIFY(!tried.isEmpty());

  MainWindow again;
  QSignalSpy warned(&again, &MainWindow::sessionWarning);
  QVERIFY(openAndWait(again, path));
  ModelDocument* doc = again.document();
  QVERIFY(warned.isEmpty());
  QVERIFY(doc->weightsModified());
  QCOMPARE(doc->model()->path, model);
  QCOMPARE(weightDiff(*doc->model()->graph, *fineTuned->graph), 0.0);
  QVERIFY(weightDiff(*doc->model()->graph, *original->graph) > 0.001);
  QVERIFY(doc->plan() == plan);
  QCOMPARE(doc->tried().size(), tried.size());
  // The baseline is the file's model, as it was before the session was saved.
  QVERIFY(waitPreview(again));
  QVERIFY(doc->hasBaseline() && w->document()->hasBaseline());
  QVERIFY2(qAbs(doc->baseline().accuracy - w->document()->baseline().accuracy) < 0.005,
           qPrintable(QString("baseline accuracy %1 instead of %2")
                          .arg(doc->baseline().accuracy)
                          .arg(w->document()->baseline().accuracy)));
  // One undo step goes back to the file's weights, as the fine-tune's did.
  doc->undoStack()->undo();
  QVERIFY(!doc->weightsModified());
  QCOMPARE(weightDiff(*doc->model()->graph, *original->graph), 0.0);
  doc->undoStack()->redo();
  QCOMPARE(weightDiff(*doc->model()->graph, *fineTuned->graph), 0.0);

  // The autosave keeps them too, and a clean exit removes both files.
  SessionStore* s = again.sessions();
  s->setAutosavePath(dir_ + "/autosave-fine.topiary");
  QSignalSpy autosaved(s, &SessionStore::autosaved);
  QVERIFY(s->autosaveNow());
  QTRY_COMPARE_WITH_TIMEOUT(autosaved.count(), 1, 30000);
  const QString autosaveWeights = SessionStore::weightsPathFor(s->autosavePath());
  QVERIFY(QFile::exists(autosaveWeights));
  {
    MainWindow recovered;
    recovered.sessions()->setAutosavePath(s->autosavePath());
    QSignalSpy opened(&recovered, &MainWindow::modelOpened);
    QVERIFY(recovered.recoverIfCrashed(false));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
    QCOMPARE(weightDiff(*recovered.document()->model()->graph, *fineTuned->graph), 0.0);
  }
  s->discardRecovery();
  QVERIFY(!QFile::exists(s->autosavePath()));
  QVERIFY(!QFile::exists(autosaveWeights));
  QCOMPARE(fileHash(model), sourceHash);  // the source model is never written
}

void TestSessions::missingOrDamagedWeightsFallBack() {
  const QString model = guitest::demoModelPath();
  const QByteArray sourceHash = fileHash(model);
  auto w = openDemo();
  QVERIFY(w);
  const std::shared_ptr<const LoadedModel> original = w->document()->model();
  w->document()->editAllSparsity(0.35);
  std::shared_ptr<const LoadedModel> fineTuned;
  const QString path = dir_ + "/lost.topiary";
  QVERIFY(saveFineTuned(*w, path, fineTuned));
  const PrunePlan plan = w->document()->plan();
  const QString weights = SessionStore::weightsPathFor(path);
  QVERIFY(QFile::remove(weights));
  {
    MainWindow again;
    QSignalSpy warned(&again, &MainWindow::sessionWarning);
    QVERIFY(openAndWait(again, path));
    QCOMPARE(warned.count(), 1);
    const QString msg = warned.first().at(0).toString();
    QVERIFY2(msg.contains("lost.weights.onnx") && msg.contains("missing") && msg.contains(QFileInfo(model).fileName()),
             qPrintable(msg));
    // Falls back to the file's weights with the session's plan.
    QVERIFY(!again.document()->weightsModified());
    QCOMPARE(weightDiff(*again.document()->model()->graph, *original->graph), 0.0);
    QVERIFY(again.document()->plan() == plan);
    QCOMPARE(again.document()->undoStack()->count(), 0);
  }
  // A damaged file: the same fallback, naming the problem.
  QFile f(weights);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("not an onnx model");
  f.close();
  {
    MainWindow again;
    QSignalSpy warned(&again, &MainWindow::sessionWarning);
    QVERIFY(openAndWait(again, path));
    QCOMPARE(warned.count(), 1);
    const QString msg = warned.first().at(0).toString();
    QVERIFY2(msg.contains("lost.weights.onnx") && msg.contains("cannot be read"), qPrintable(msg));
    QVERIFY(!again.document()->weightsModified());
    QCOMPARE(weightDiff(*again.document()->model()->graph, *original->graph), 0.0);
    QVERIFY(again.document()->plan() == plan);
  }
  QCOMPARE(fileHash(model), sourceHash);
}

void TestSessions::weightsOfAnotherGraphFallBack() {
  const QString resnetPath = QString::fromStdString(testutil::sourcePath("resources/models/resnet8.onnx"));
  if (!QFile::exists(resnetPath)) QSKIP("resnet8 not bundled");
  const QByteArray resnetHash = fileHash(resnetPath);
  // The fine-tuned weights of a LeNet-5 session.
  auto lenet = openDemo();
  QVERIFY(lenet);
  std::shared_ptr<const LoadedModel> fineTuned;
  const QString lenetSession = dir_ + "/lenet-ft.topiary";
  QVERIFY(saveFineTuned(*lenet, lenetSession, fineTuned));
  const QString lenetWeights = SessionStore::weightsPathFor(lenetSession);

  // A ResNet-8 session whose weights file is a copy of LeNet-5's.
  QString err;
  std::shared_ptr<const LoadedModel> resnet;
  const QString resnetSession = dir_ + "/resnet-ft.topiary";
  {
    MainWindow w;
    QSignalSpy opened(&w, &MainWindow::modelOpened);
    w.openModel(resnetPath);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
    resnet = w.document()->model();
    w.document()->editAllSparsity(0.3);
    QSignalSpy saved(w.sessions(), &SessionStore::saved);
    QVERIFY2(w.sessions()->save(resnetSession, &err), qPrintable(err));
    QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 30000);
  }
  QJsonObject json;
  QVERIFY(SessionStore::readJson(resnetSession, json, &err));
  json["weights"] = "resnet-ft.weights.onnx";
  json["weights_fine_tuned"] = true;
  QVERIFY(SessionStore::writeJson(json, resnetSession, &err));
  const QString resnetWeights = SessionStore::weightsPathFor(resnetSession);
  QVERIFY(QFile::copy(lenetWeights, resnetWeights));

  // Opens `session` and checks that it fell back to `model`'s own weights
  // with a warning naming the weights file and `why`.
  auto fallsBack = [&](const QString& session, const std::shared_ptr<const LoadedModel>& model, const QString& why) {
    MainWindow again;
    QSignalSpy warned(&again, &MainWindow::sessionWarning);
    QVERIFY(openAndWait(again, session));
    QCOMPARE(warned.count(), 1);
    const QString msg = warned.first().at(0).toString();
    QVERIFY2(msg.contains(QFileInfo(SessionStore::weightsPathFor(session)).fileName()) &&
                 msg.contains("does not belong") && msg.contains(why),
             qPrintable(msg));
    ModelDocument* doc = again.document();
    QVERIFY(!doc->weightsModified());
    QCOMPARE(doc->undoStack()->count(), 0);
    QCOMPARE(doc->model()->graph->nodes.size(), model->graph->nodes.size());
    QCOMPARE(weightDiff(*doc->model()->graph, *model->graph), 0.0);
    QVERIFY(waitPreview(again));  // and the model still runs
    QVERIFY2(doc->preview().ok, qPrintable(doc->preview().error));
  };
  fallsBack(resnetSession, resnet, "nodes instead of");
  if (QTest::currentTestFailed()) return;

  // LeNet-5's own graph, but one initializer of another shape.
  const topiary::Graph& lenetGraph = *fineTuned->graph;
  const std::string fc3Bias = lenetGraph.nodes[static_cast<size_t>(lenetGraph.findNode("fc3"))].input(2);
  QVERIFY(!fc3Bias.empty());
  {
    topiary::Graph g = lenetGraph;
    g.initializers[fc3Bias] = topiary::Tensor(topiary::Shape{1, 10});
    QVERIFY(topiary::saveModel(g, lenetWeights.toStdString()));
  }
  // The original weights of LeNet-5, when the session was saved.
  lenet->document()->undoStack()->undo();
  QVERIFY(!lenet->document()->weightsModified());
  const std::shared_ptr<const LoadedModel> lenetOriginal = lenet->document()->model();
  fallsBack(lenetSession, lenetOriginal,
            "initializer " + QString::fromStdString(fc3Bias) + " has another type or shape");
  if (QTest::currentTestFailed()) return;

  // The same nodes and tensors, but a layer that computes something else:
  // fc3 scaled by alpha = 0.5. Its weights would make another model.
  {
    topiary::Graph g = lenetGraph;
    g.nodes[static_cast<size_t>(g.findNode("fc3"))].attrs["alpha"] = topiary::Attribute::ofFloat(0.5f);
    QVERIFY(topiary::saveModel(g, lenetWeights.toStdString()));
  }
  fallsBack(lenetSession, lenetOriginal, "fc3 has another attribute alpha");
  if (QTest::currentTestFailed()) return;
  QCOMPARE(fileHash(resnetPath), resnetHash);  // the source model is never written
}

void TestSessions::autosaveAfterChange() {
  auto w = openDemo();
  QVERIFY(w);
  // A preview that finishes adds a tried point, which is a change of its own
  // and schedules a write; under load (the sanitizer build) the opening
  // preview finished inside the burst below. Let it finish, then edit with
  // the live preview off so that only the edits schedule writes.
  QVERIFY(waitPreview(*w));
  w->previewController()->setAutoPreview(false);
  SessionStore* s = w->sessions();
  s->setAutosavePath(dir_ + "/autosave-a.topiary");
  s->setAutosaveDelay(200);
  QVERIFY(!s->hasRecovery());
  QSignalSpy saved(s, &SessionStore::autosaved);
  w->document()->editAllSparsity(0.25);
  QVERIFY(saved.wait(30000));
  QVERIFY(s->hasRecovery());
  QJsonObject json;
  QString err;
  QVERIFY(SessionStore::readJson(s->autosavePath(), json, &err));
  QCOMPARE(json["recipe"].toObject()["default"].toObject()["sparsity"].toDouble(), 0.25);
  // Several quick changes make one write, after the last of them.
  saved.clear();
  w->document()->editAllSparsity(0.3);
  w->document()->editAllSparsity(0.35);
  QVERIFY(saved.wait(30000));
  QTest::qWait(400);
  QCOMPARE(saved.count(), 1);
  QVERIFY(SessionStore::readJson(s->autosavePath(), json, &err));
  QCOMPARE(json["recipe"].toObject()["default"].toObject()["sparsity"].toDouble(), 0.35);
}

void TestSessions::failedAutosaveDoesNotInterrupt() {
  auto w = openDemo();
  QVERIFY(w);
  w->show();
  w->previewController()->setAutoPreview(false);
  // Closes modal dialogs as they appear and counts them.
  int dialogs = 0;
  QTimer closer;
  connect(&closer, &QTimer::timeout, [&] {
    if (auto* d = qobject_cast<QDialog*>(QApplication::activeModalWidget())) {
      ++dialogs;
      d->reject();
    }
  });
  closer.start(20);
  // An autosave folder that cannot be written (gone, read-only, full disk):
  // every change fails its autosave a few seconds later, which must not put a
  // modal dialog in front of the user each time; the status bar says it.
  // (A file where the folder should be: even root cannot write there.)
  const QString blocked = dir_ + "/not-a-folder";
  QFile block(blocked);
  QVERIFY(block.open(QIODevice::WriteOnly));
  block.close();
  SessionStore* s = w->sessions();
  s->setAutosavePath(blocked + "/autosave.topiary");
  for (double sparsity : {0.2, 0.3, 0.4}) {
    w->document()->editAllSparsity(sparsity);
    QVERIFY(!s->autosaveNow());
  }
  QCOMPARE(dialogs, 0);
  QVERIFY2(w->sessionProblem().contains("utosave") && w->sessionProblem().contains("not-a-folder"),
           qPrintable(w->sessionProblem()));
  // A preview that ends afterwards replaces the engine status, not the
  // warning that autosave is failing.
  QSignalSpy previewed(w->previewController(), &PreviewController::resultReady);
  w->previewController()->request();
  QVERIFY(previewed.wait(60000));
  QVERIFY2(w->engineStatus().contains("Last preview"), qPrintable(w->engineStatus()));
  QVERIFY2(w->sessionProblem().contains("utosave"), qPrintable(w->sessionProblem()));
  w->resize(1100, 700);
  QVERIFY(w->grab().save(guitest::screenshotDir() + "/session-autosave-failing.png"));
  // A session the user saves there is still refused with a dialog.
  QString err;
  QVERIFY(!s->save(blocked + "/mine.topiary", &err));
  QTRY_COMPARE(dialogs, 1);
  QVERIFY2(w->sessionProblem().contains("mine.topiary was not saved"), qPrintable(w->sessionProblem()));
  // The warning goes once a save of the same kind works.
  QSignalSpy saved(s, &SessionStore::saved);
  QVERIFY(s->save(dir_ + "/mine.topiary", &err));
  QTRY_VERIFY(saved.count() == 1);
  QVERIFY2(w->sessionProblem().isEmpty(), qPrintable(w->sessionProblem()));
  QCOMPARE(dialogs, 1);
}

void TestSessions::saveAsAsksBeforeReplacing() {
  auto w = openDemo();
  QVERIFY(w);
  w->show();
  w->previewController()->setAutoPreview(false);
  const QString existing = dir_ + "/replace-me.topiary";
  {
    QFile f(existing);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("a session the user keeps");
  }
  QAction* saveAs = nullptr;
  for (QAction* a : w->findChildren<QAction*>())
    if (a->shortcut() == QKeySequence(QKeySequence::Save)) saveAs = a;
  QVERIFY(saveAs);
  // The user types the name without its suffix, is asked whether to replace
  // the file, says no, and cancels the dialog.
  int asked = 0;
  bool typed = false;
  QTimer driver;
  connect(&driver, &QTimer::timeout, [&] {
    QWidget* modal = QApplication::activeModalWidget();
    if (auto* box = qobject_cast<QMessageBox*>(modal)) {
      ++asked;
      box->button(QMessageBox::No)->click();
    } else if (auto* dialog = qobject_cast<QFileDialog*>(modal)) {
      if (!typed) {
        auto* name = dialog->findChild<QLineEdit*>("fileNameEdit");
        if (!name) return;
        typed = true;
        dialog->setDirectory(dir_);
        name->setText("replace-me");
        QMetaObject::invokeMethod(dialog, "accept", Qt::QueuedConnection);
      } else {
        dialog->reject();
      }
    }
  });
  driver.start(20);
  saveAs->trigger();
  driver.stop();
  QVERIFY(typed);
  QCOMPARE(asked, 1);
  QFile f(existing);
  QVERIFY(f.open(QIODevice::ReadOnly));
  QCOMPARE(f.readAll(), QByteArray("a session the user keeps"));
}

void TestSessions::recoveryAfterCrash() {
  // A "crashed" run: its autosave is left where the next start looks.
  const QString autosave = dir_ + "/autosave-crash.topiary";
  {
    auto w = openDemo();
    QVERIFY(w);
    w->sessions()->setAutosavePath(autosave);
    w->document()->editAllSparsity(0.45);
    QVERIFY(w->sessions()->autosaveNow());
    // No closeEvent: the window is destroyed as a crash would leave it.
  }
  QVERIFY(QFile::exists(autosave));
  MainWindow next;
  next.sessions()->setAutosavePath(autosave);
  QSignalSpy opened(&next, &MainWindow::modelOpened);
  QVERIFY(next.recoverIfCrashed(false));
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  QCOMPARE(next.document()->plan().global().sparsity, 0.45);
  QCOMPARE(next.document()->plan().layerPlan(next.layerModel()->layerAt(0)).sparsity, 0.45);
}

void TestSessions::cleanExitLeavesNoRecovery() {
  const QString autosave = dir_ + "/autosave-clean.topiary";
  MainWindow w;
  w.sessions()->setAutosavePath(autosave);
  QFile f(autosave);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("{}");
  f.close();
  QVERIFY(w.sessions()->hasRecovery());
  w.show();
  QVERIFY(w.close());
  QVERIFY(!QFile::exists(autosave));
  MainWindow after;
  after.sessions()->setAutosavePath(autosave);
  QVERIFY(!after.recoverIfCrashed(false));
}

void TestSessions::badSessionsNameTheProblem() {
  MainWindow w;
  QString err;
  const QString notJson = dir_ + "/broken.topiary";
  QFile f(notJson);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("{\"format\": \"topiary-session\", ");
  f.close();
  QVERIFY(!w.openSession(notJson, &err));
  QVERIFY2(err.contains("broken.topiary"), qPrintable(err));
  const QString missingModel = dir_ + "/missing-model.topiary";
  QVERIFY(SessionStore::writeJson(QJsonObject{{"format", "topiary-session"}, {"model", dir_ + "/nope.onnx"}},
                                  missingModel, &err));
  QVERIFY(!w.openSession(missingModel, &err));
  QVERIFY2(err.contains("nope.onnx") && err.contains("'model'"), qPrintable(err));
  QVERIFY(!w.openSession(dir_ + "/absent.topiary", &err));
  QVERIFY2(err.contains("absent.topiary"), qPrintable(err));
}

void TestSessions::windowStateRestored() {
  {
    MainWindow w;
    w.show();
    QDockWidget* jobs = w.findChild<QDockWidget*>("JobsDock");
    QVERIFY(jobs);
    // Right on a large screen, left (under the layers) on a small one such as the offscreen platform's.
    QVERIFY(w.dockWidgetArea(jobs) == Qt::RightDockWidgetArea || w.dockWidgetArea(jobs) == Qt::LeftDockWidgetArea);
    w.addDockWidget(Qt::BottomDockWidgetArea, jobs);  // the user moves it
    w.findChild<QDockWidget*>("WeightsDock")->hide();
    QVERIFY(w.close());
  }
  MainWindow again;
  again.show();
  QCOMPARE(again.dockWidgetArea(again.findChild<QDockWidget*>("JobsDock")), Qt::BottomDockWidgetArea);
  QVERIFY(!again.findChild<QDockWidget*>("WeightsDock")->isVisible());
  QSettings().clear();
}

void TestSessions::dropOpensModel() {
  MainWindow w;
  w.show();
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(guitest::demoModelPath())});
  QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &enter);
  QVERIFY(enter.isAccepted());
  QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(&w, &drop);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  QCOMPARE(opened.first().at(0).toString(), guitest::demoModelPath());
  QVERIFY(w.windowTitle().contains(QFileInfo(guitest::demoModelPath()).fileName()));
}

QTEST_MAIN(TestSessions)
#include "test_sessions.moc"
