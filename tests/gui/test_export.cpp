// Export from the workbench equals `topiary-cli prune --recipe` on the saved
// recipe (same initializers bit for bit, same outputs on the same inputs),
// for unstructured, N:M, structured (physically smaller) and quantized plans
// and for weights changed by a training job; the source model is never
// written; writes leave no partial files behind, and a failed export (its
// trained base, or any file after the first) none of its files, earlier
// exports of that name as they were; the command the status bar shows runs
// as shown in a shell, with spaces and quotes in the paths.
#include <QAction>
#include <QApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFileDialog>
#include <QJsonDocument>
#include <QLineEdit>
#include <QMessageBox>
#include <QProcess>
#include <QtTest>
#include <random>

#include "Exporter.h"
#include "LoadedModel.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "PreviewController.h"
#include "PreviewWorker.h"
#include "PrunePlan.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"

namespace {

QByteArray sha(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

// Largest output difference of two models on the same 8 random images.
double outputDiff(const topiary::Graph& a, const topiary::Graph& b, QString* why) {
  auto in = topiary::makeInputLike(a.inputs[0], 8);
  if (!in) {
    *why = QString::fromStdString(in.status().message());
    return -1;
  }
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < in->numel(); ++i) in->f()[i] = u(rng);
  auto ea = topiary::Executor::create(a);
  auto eb = topiary::Executor::create(b);
  if (!ea || !eb) {
    *why = QString::fromStdString((ea ? eb.status() : ea.status()).message());
    return -1;
  }
  topiary::Status sa = (*ea)->run(in.value()), sb = (*eb)->run(in.value());
  if (!sa || !sb) {
    *why = QString::fromStdString((sa ? sb : sa).message());
    return -1;
  }
  return testutil::maxAbsDiff((*ea)->output(0), (*eb)->output(0));
}

// The demo's weights scaled by 0.9: weights as a training job leaves them.
std::shared_ptr<const LoadedModel> trainedCopy(const LoadedModel& model) {
  topiary::Graph g = *model.graph;
  for (auto& kv : g.initializers)
    if (kv.second.dtype() == topiary::DType::Float)
      for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.f()[i] *= 0.9f;
  return LoadedModel::fromGraph(std::move(g), model.path);
}

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  if (f.open(QIODevice::WriteOnly)) f.write(text);
}

QByteArray readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TestExport : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void matchesCli_data();
  void matchesCli();
  void trainedWeightsExportWithTheirBase();
  void neverWritesTheSource();
  void failedExportLeavesNothing();
  void failedTrainedBaseLeavesNothing();
  void failedLaterWriteTakesBackEarlierOnes();
  void failedExportFromTheWindow();
  void commandRunsAsShown();

 private:
  // Runs topiary-cli prune; empty string on success, else why not.
  QString runCli(const QString& model, const QString& recipe, const QString& out);
  std::shared_ptr<const LoadedModel> model_;
  QString dir_;
};

void TestExport::initTestCase() {
  guitest::isolateSettings();
  auto m = LoadedModel::load(guitest::demoModelPath());
  QVERIFY2(m, m ? "" : m.status().message().c_str());
  model_ = m.value();
  dir_ = QString::fromStdString(testutil::tempDir());
  if (!QFileInfo::exists(QStringLiteral(TOPIARY_CLI))) QSKIP("topiary-cli is not built (cmake --build . --target topiary-cli)");
}

QString TestExport::runCli(const QString& model, const QString& recipe, const QString& out) {
  QProcess p;
  p.start(QStringLiteral(TOPIARY_CLI), {"prune", model, "--recipe", recipe, "--out", out});
  if (!p.waitForFinished(120000)) return "topiary-cli did not finish";
  if (p.exitCode() != 0) return QString::fromUtf8(p.readAllStandardError());
  return {};
}

void TestExport::matchesCli_data() {
  QTest::addColumn<QString>("recipe");
  QTest::addColumn<bool>("structural");
  QTest::newRow("element+filter") << R"({"default": {"granularity": "filter", "sparsity": 0.5},
      "layers": {"conv2": {"granularity": "element", "sparsity": 0.7}}})" << true;
  QTest::newRow("n:m") << R"({"layers": {"conv2": {"granularity": "nm", "n": 2, "m": 4},
      "fc1": {"granularity": "nm", "n": 1, "m": 4}}})" << false;
  QTest::newRow("element-global") << R"({"default": {"granularity": "element", "sparsity": 0.8},
      "ranking": "global"})" << false;
  QTest::newRow("filter-8bit") << R"({"default": {"granularity": "filter", "sparsity": 0.3},
      "quantize": {"bits": 8, "per_channel": true}})" << true;
}

void TestExport::matchesCli() {
  QFETCH(QString, recipe);
  QFETCH(bool, structural);
  PrunePlan plan;
  QString err;
  QVERIFY2(PrunePlan::fromRecipe(QJsonDocument::fromJson(recipe.toUtf8()).object(), plan, &err), qPrintable(err));
  const QString tag = QTest::currentDataTag();
  const QString out = dir_ + "/gui-" + tag + ".onnx";
  const QByteArray sourceHash = sha(model_->path);
  ExportResult r = Exporter::exportModel(*model_, plan, out);
  QVERIFY2(r.ok, qPrintable(r.error));
  QCOMPARE(r.structural, structural);
  QVERIFY(r.basePath.isEmpty());
  QVERIFY(r.cliCommand.startsWith("topiary-cli prune " + model_->path));
  QCOMPARE(sha(model_->path), sourceHash);
  // The recipe file is the plan's recipe and reads back to the same plan.
  QFile rf(r.recipePath);
  QVERIFY(rf.open(QIODevice::ReadOnly));
  PrunePlan back;
  QVERIFY(PrunePlan::fromRecipe(QJsonDocument::fromJson(rf.readAll()).object(), back, &err));
  QCOMPARE(back.toRecipe(), plan.toRecipe());

  auto gui = topiary::loadModel(out.toStdString());
  QVERIFY(gui);
  if (plan.global().quantBits == 0) QCOMPARE(qint64(gui->paramCount()), r.params);  // QDQ weights are int8
  const QString cliOut = dir_ + "/cli-" + tag + ".onnx";
  const QString why = runCli(model_->path, r.recipePath, cliOut);
  QVERIFY2(why.isEmpty(), qPrintable(why));
  auto cli = topiary::loadModel(cliOut.toStdString());
  QVERIFY(cli);
  QCOMPARE(cli->nodes.size(), gui->nodes.size());
  QCOMPARE(cli->initializers.size(), gui->initializers.size());
  for (const auto& kv : gui->initializers) {
    QVERIFY2(cli->initializers.count(kv.first), kv.first.c_str());
    QCOMPARE(cli->initializers.at(kv.first).shape(), kv.second.shape());
    if (kv.second.dtype() == topiary::DType::Float)
      QCOMPARE(testutil::maxAbsDiff(kv.second, cli->initializers.at(kv.first)), 0.0);
  }
  QString whyRun;
  const double d = outputDiff(gui.value(), cli.value(), &whyRun);
  QVERIFY2(d >= 0, qPrintable(whyRun));
  QCOMPARE(d, 0.0);
  qInfo("%s: %lld -> %lld params, %lld nonzero, structural %d", qPrintable(tag),
        static_cast<long long>(model_->graph->paramCount()), static_cast<long long>(r.params),
        static_cast<long long>(r.nonzeroParams), int(r.structural));
  if (structural) QVERIFY(r.params < qint64(model_->graph->paramCount()));

  // The workbench's preview counted the same model the export wrote.
  if (plan.global().quantBits == 0) {
    auto latest = std::make_shared<std::atomic<quint64>>(1);
    PreviewWorker worker(latest);
    worker.setData("fashion-mnist", 200);
    PreviewRequest req;
    req.generation = 1;
    req.model = model_;
    req.plan = plan;
    req.measureLatency = false;
    PreviewResult pv = worker.compute(req);
    QVERIFY2(pv.ok, qPrintable(pv.error));
    QCOMPARE(pv.params, r.params);
    QCOMPARE(pv.nonzeroParams, r.nonzeroParams);
    QCOMPARE(pv.structural, structural);
  }
}

void TestExport::trainedWeightsExportWithTheirBase() {
  // Weights as a training job leaves them: different from the file.
  topiary::Graph g = *model_->graph;
  for (auto& kv : g.initializers)
    if (kv.second.dtype() == topiary::DType::Float)
      for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.f()[i] *= 0.9f;
  auto trained = LoadedModel::fromGraph(std::move(g), model_->path);
  PrunePlan plan;
  GlobalPlan gp = plan.global();
  gp.granularity = "element";
  gp.sparsity = 0.5;
  plan.setGlobal(gp);
  const QString out = dir_ + "/trained.onnx";
  ExportResult r = Exporter::exportModel(*trained, plan, out, QString(), true);
  QVERIFY2(r.ok, qPrintable(r.error));
  QCOMPARE(r.basePath, QFileInfo(Exporter::defaultBasePath(out)).absoluteFilePath());
  QVERIFY(r.cliCommand.startsWith("topiary-cli prune " + r.basePath));
  auto base = topiary::loadModel(r.basePath.toStdString());
  QVERIFY(base);
  for (const auto& kv : trained->graph->initializers)
    QCOMPARE(testutil::maxAbsDiff(kv.second, base->initializers.at(kv.first)), 0.0);
  const QString cliOut = dir_ + "/trained-cli.onnx";
  const QString why = runCli(r.basePath, r.recipePath, cliOut);
  QVERIFY2(why.isEmpty(), qPrintable(why));
  auto gui = topiary::loadModel(out.toStdString());
  auto cli = topiary::loadModel(cliOut.toStdString());
  QVERIFY(gui && cli);
  QString whyRun;
  QCOMPARE(outputDiff(gui.value(), cli.value(), &whyRun), 0.0);
}

void TestExport::neverWritesTheSource() {
  // A copy stands in for the user's model so a bug cannot damage the demo.
  const QString src = dir_ + "/source.onnx";
  QFile::remove(src);
  QVERIFY(QFile::copy(model_->path, src));
  auto m = LoadedModel::load(src);
  QVERIFY(m);
  const QByteArray hash = sha(src);
  PrunePlan plan;
  plan.setAllSparsity(0.5);
  ExportResult r = Exporter::exportModel(*m.value(), plan, src);
  QVERIFY(!r.ok);
  QVERIFY2(r.error.contains("source") && r.error.contains("source.onnx"), qPrintable(r.error));
  // Nor through the recipe path, nor through the trained-base path.
  r = Exporter::exportModel(*m.value(), plan, dir_ + "/x.onnx", src);
  QVERIFY(!r.ok);
  const QString sneaky = dir_ + "/source";  // its base would be source.trained-base.onnx, its recipe source.recipe.json
  r = Exporter::exportModel(*m.value(), plan, sneaky + ".onnx", QString(), true);
  QVERIFY(!r.ok);
  QCOMPARE(sha(src), hash);
}

void TestExport::failedExportLeavesNothing() {
  const QString sub = dir_ + "/atomic";
  QVERIFY(QDir().mkpath(sub));
  PrunePlan plan;
  plan.setAllSparsity(0.5);
  ExportResult ok = Exporter::exportModel(*model_, plan, sub + "/m.onnx");
  QVERIFY2(ok.ok, qPrintable(ok.error));
  // Exactly the model and the recipe: no temporary files left behind.
  QCOMPARE(QDir(sub).entryList(QDir::Files | QDir::Hidden, QDir::Name), (QStringList{"m.onnx", "m.recipe.json"}));
  // Overwriting an earlier export replaces it whole.
  const QByteArray first = sha(sub + "/m.onnx");
  plan.setAllSparsity(0.8);
  QVERIFY(Exporter::exportModel(*model_, plan, sub + "/m.onnx").ok);
  QVERIFY(sha(sub + "/m.onnx") != first);
  QCOMPARE(QDir(sub).entryList(QDir::Files | QDir::Hidden).size(), 2);
  // A folder that does not exist: an error naming the path, no file.
  ExportResult bad = Exporter::exportModel(*model_, plan, sub + "/missing/m.onnx");
  QVERIFY(!bad.ok);
  QVERIFY2(bad.error.contains("missing"), qPrintable(bad.error));
  QVERIFY(!QFileInfo::exists(sub + "/missing/m.recipe.json"));
  // An impossible plan: the error names the key, nothing is written.
  PrunePlan wrong;
  GlobalPlan g = wrong.global();
  g.quantBits = 12;
  wrong.setGlobal(g);
  ExportResult q = Exporter::exportModel(*model_, wrong, sub + "/q.onnx");
  QVERIFY(!q.ok);
  QVERIFY2(q.error.contains("bits"), qPrintable(q.error));
  QVERIFY(!QFileInfo::exists(sub + "/q.onnx"));
  // A training method: told to run it as a job.
  PrunePlan admm;
  g = admm.global();
  g.method = "admm";
  admm.setGlobal(g);
  ExportResult a = Exporter::exportModel(*model_, admm, sub + "/a.onnx");
  QVERIFY(!a.ok);
  QVERIFY2(a.error.contains("Jobs") && a.error.contains("'method'"), qPrintable(a.error));
  QVERIFY(!QFileInfo::exists(sub + "/a.onnx"));
}

void TestExport::failedTrainedBaseLeavesNothing() {
  // With trained weights an export writes three files; the third cannot be
  // written (a folder has its name). The model and recipe were left behind
  // with no base for their command to start from.
  auto trained = trainedCopy(*model_);
  QVERIFY(trained);
  const QString sub = dir_ + "/base-blocked";
  QVERIFY(QDir().mkpath(sub + "/m.trained-base.onnx"));
  PrunePlan plan;
  plan.setAllSparsity(0.5);
  ExportResult r = Exporter::exportModel(*trained, plan, sub + "/m.onnx", QString(), true);
  QVERIFY(!r.ok);
  QVERIFY2(r.error.contains("m.trained-base.onnx"), qPrintable(r.error));
  QCOMPARE(QDir(sub).entryList(QDir::Files | QDir::Hidden), QStringList());
  // An earlier export of that name keeps what it had.
  writeText(sub + "/m.onnx", "earlier model");
  writeText(sub + "/m.recipe.json", "earlier recipe");
  r = Exporter::exportModel(*trained, plan, sub + "/m.onnx", QString(), true);
  QVERIFY(!r.ok);
  QCOMPARE(readText(sub + "/m.onnx"), QByteArray("earlier model"));
  QCOMPARE(readText(sub + "/m.recipe.json"), QByteArray("earlier recipe"));
  QCOMPARE(QDir(sub).entryList(QDir::Files | QDir::Hidden).size(), 2);
}

void TestExport::failedLaterWriteTakesBackEarlierOnes() {
  // A write that fails after the path checks passed (here: /proc, where no
  // one can create a file, root included; for a user also a full disk or a
  // read-only folder): the model written before it is taken back.
  if (!QFileInfo(QStringLiteral("/proc/self")).isDir()) QSKIP("no /proc");
  const QString sub = dir_ + "/late-failure";
  QVERIFY(QDir().mkpath(sub));
  const QString recipe = QStringLiteral("/proc/self/m.recipe.json");
  PrunePlan plan;
  plan.setAllSparsity(0.5);
  ExportResult r = Exporter::exportModel(*model_, plan, sub + "/m.onnx", recipe);
  QVERIFY(!r.ok);
  QVERIFY2(r.error.contains("/proc/self"), qPrintable(r.error));
  QCOMPARE(QDir(sub).entryList(QDir::Files | QDir::Hidden), QStringList());
  // A model there before: replaced, then given back its bytes.
  writeText(sub + "/m.onnx", "earlier model");
  r = Exporter::exportModel(*model_, plan, sub + "/m.onnx", recipe);
  QVERIFY(!r.ok);
  QCOMPARE(readText(sub + "/m.onnx"), QByteArray("earlier model"));
  QCOMPARE(QDir(sub).entryList(QDir::Files | QDir::Hidden), QStringList{"m.onnx"});
}

void TestExport::failedExportFromTheWindow() {
  // File > Export after a training job, where the trained base cannot be
  // written: the user is told why, and finds no half export on disk.
  const QString sub = dir_ + "/window";
  QVERIFY(QDir().mkpath(sub + "/w.trained-base.onnx"));
  MainWindow w;
  w.show();
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  w.openModel(model_->path);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  // The baseline preview first, so that its status line does not replace the export's.
  QTRY_VERIFY_WITH_TIMEOUT(w.document()->hasBaseline() && !w.previewController()->busy(), 30000);
  w.previewController()->setAutoPreview(false);
  auto trained = trainedCopy(*w.document()->model());
  QVERIFY(trained);
  w.document()->replaceWeights(trained, "Fine-tune");
  QVERIFY(w.document()->weightsModified());
  w.document()->editAllSparsity(0.5);
  QAction* exportAction = nullptr;
  for (QAction* a : w.findChildren<QAction*>())
    if (a->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_E)) exportAction = a;
  QVERIFY(exportAction);
  bool typed = false;
  QString warning, status;
  QTimer driver;
  connect(&driver, &QTimer::timeout, [&] {
    QWidget* modal = QApplication::activeModalWidget();
    if (auto* box = qobject_cast<QMessageBox*>(modal)) {
      warning = box->text();
      status = w.engineStatus();  // a preview finishing later may replace it
      box->accept();
    } else if (auto* dialog = qobject_cast<QFileDialog*>(modal)) {
      auto* name = dialog->findChild<QLineEdit*>("fileNameEdit");
      if (!name || typed) return;
      typed = true;
      dialog->setDirectory(sub);
      name->setText("w.onnx");
      QMetaObject::invokeMethod(dialog, "accept", Qt::QueuedConnection);
    }
  });
  driver.start(20);
  exportAction->trigger();
  QTRY_VERIFY_WITH_TIMEOUT(!warning.isEmpty(), 30000);
  driver.stop();
  QVERIFY(typed);
  QVERIFY2(warning.contains("w.trained-base.onnx"), qPrintable(warning));
  QCOMPARE(status, QString("Export failed"));
  QVERIFY(!QFileInfo::exists(sub + "/w.onnx"));
  QVERIFY(!QFileInfo::exists(sub + "/w.recipe.json"));
}

void TestExport::commandRunsAsShown() {
  // A user's folders: a space and a quote in the names.
  const QString sub = dir_ + "/my models/Ann's run";
  QVERIFY(QDir().mkpath(sub));
  const QString src = sub + "/lenet 5.onnx";
  QFile::remove(src);
  QVERIFY(QFile::copy(model_->path, src));
  auto m = LoadedModel::load(src);
  QVERIFY(m);
  PrunePlan plan;
  plan.setAllSparsity(0.6);
  const QString out = sub + "/lenet 5 pruned.onnx";
  ExportResult r = Exporter::exportModel(*m.value(), plan, out);
  QVERIFY2(r.ok, qPrintable(r.error));
  auto gui = topiary::loadModel(out.toStdString());
  QVERIFY(gui);
  QVERIFY(QFile::remove(out));
  // Pasted into a shell (with the built topiary-cli in place of the name on PATH).
  QVERIFY(r.cliCommand.startsWith("topiary-cli "));
  const QString cmd = "'" + QStringLiteral(TOPIARY_CLI) + "'" + r.cliCommand.mid(QString("topiary-cli").size());
  QProcess p;
  p.start("/bin/sh", {"-c", cmd});
  QVERIFY(p.waitForFinished(120000));
  QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
           qPrintable(r.cliCommand + ": " + QString::fromUtf8(p.readAllStandardError())));
  auto cli = topiary::loadModel(out.toStdString());
  QVERIFY2(cli, qPrintable(r.cliCommand));
  QCOMPARE(cli->initializers.size(), gui->initializers.size());
  for (const auto& kv : gui->initializers)
    QCOMPARE(testutil::maxAbsDiff(kv.second, cli->initializers.at(kv.first)), 0.0);
}

QTEST_MAIN(TestExport)
#include "test_export.moc"
