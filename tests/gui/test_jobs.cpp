// Long jobs on the demo model (offscreen): ADMM, DNS and AGP runs of the
// plan finish with pruned, trained weights as one undo step; cancelling any
// job lands within a second and leaves the weights exactly as they were.
#include <QJsonArray>
#include <QProgressBar>
#include <QtTest>

#include "JobPanel.h"
#include "LayerTableModel.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/prune.h"

using testutil::weightDiff;

class TestJobs : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void pruneJobRecipeNamesMethod();
  void admmJobPrunesAndUndoes();
  void cancelLeavesWeights_data();
  void cancelLeavesWeights();
  void cleanupTestCase();

 private:
  MainWindow* w_ = nullptr;
};

void TestJobs::initTestCase() {
  guitest::isolateSettings();
  w_ = new MainWindow;
  w_->show();
  QSignalSpy opened(w_, &MainWindow::modelOpened);
  w_->openModel(guitest::demoModelPath());
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  // conv2 and fc1 at 60% element sparsity: something for the methods to do.
  LayerTableModel* tm = w_->layerModel();
  for (int row : {1, 2}) {
    QVERIFY(tm->setData(tm->index(row, LayerTableModel::Granularity), "element"));
    QVERIFY(tm->setData(tm->index(row, LayerTableModel::Sparsity), 0.6));
  }
}

void TestJobs::cleanupTestCase() { delete w_; }

void TestJobs::pruneJobRecipeNamesMethod() {
  JobPanel* jobs = w_->jobPanel();
  QJsonObject admm = jobs->pruneJobRecipe("admm", 2, 10);
  QCOMPARE(admm["method"].toString(), QString("admm"));
  QCOMPARE(admm["finetune"].toObject()["epochs"].toInt(), 2);
  QCOMPARE(admm["finetune"].toObject()["max_batches"].toInt(), 10);
  QCOMPARE(admm["layers"].toObject()[w_->layerModel()->layerAt(1)].toObject()["sparsity"].toDouble(), 0.6);
  QJsonObject agp = jobs->pruneJobRecipe("agp", 1);
  QCOMPARE(agp["method"].toString(), QString("magnitude"));
  QCOMPARE(agp["schedule"].toObject()["kind"].toString(), QString("agp"));
  QVERIFY(agp["schedule"].toObject()["steps"].toInt() >= 2);
  QCOMPARE(jobs->pruneJobRecipe("dns", 1)["method"].toString(), QString("dns"));
}

void TestJobs::admmJobPrunesAndUndoes() {
  ModelDocument* doc = w_->document();
  JobPanel* jobs = w_->jobPanel();
  auto before = doc->model();
  const int undoBefore = doc->undoStack()->count();
  QSignalSpy finished(jobs, &JobPanel::jobFinished);
  QSignalSpy progress(jobs->progressBar(), &QProgressBar::valueChanged);
  // 1 epoch of masked retraining, 8 batches per epoch: a few seconds.
  jobs->startPruneJob("admm", 1, 2000, 8);
  QVERIFY(jobs->running());
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 50000);
  const JobOutcome& o = jobs->lastOutcome();
  QVERIFY2(o.ok, qPrintable(o.message));
  QVERIFY(!o.log.isEmpty());
  QVERIFY(progress.count() > 1);
  QCOMPARE(jobs->progressBar()->value(), 1000);
  QVERIFY(jobs->curvePoints() > 0);
  // New weights, one undo step; conv2 now holds 60% zeros.
  QVERIFY(doc->model() != before);
  QVERIFY(doc->weightsModified());
  QCOMPARE(doc->undoStack()->count(), undoBefore + 1);
  const QString conv2w = doc->model()->layers[1].weight;
  const double zeros = topiary::zeroFraction(doc->model()->graph->initializers.at(conv2w.toStdString()));
  qInfo("ADMM job: %s; conv2 zeros %.3f", qPrintable(o.message), zeros);
  QVERIFY2(std::abs(zeros - 0.6) < 0.01, qPrintable(QString::number(zeros)));
  QVERIFY(weightDiff(*doc->model()->graph, *before->graph) > 0);
  doc->undoStack()->undo();
  QCOMPARE(doc->model().get(), before.get());
  QVERIFY(!doc->weightsModified());
  doc->undoStack()->redo();
  QVERIFY(doc->model() != before);
  doc->undoStack()->undo();
}

void TestJobs::cancelLeavesWeights_data() {
  QTest::addColumn<QString>("job");
  QTest::newRow("fine-tune") << "fine-tune";
  QTest::newRow("admm") << "admm";
  QTest::newRow("dns") << "dns";
  QTest::newRow("agp") << "agp";
}

void TestJobs::cancelLeavesWeights() {
  QFETCH(QString, job);
  ModelDocument* doc = w_->document();
  JobPanel* jobs = w_->jobPanel();
  auto before = doc->model();
  const topiary::Graph snapshot = *before->graph;  // a deep copy of the weights
  const int undoBefore = doc->undoStack()->count();
  QSignalSpy finished(jobs, &JobPanel::jobFinished);
  if (job == "fine-tune") {
    topiary::TrainOptions o;
    o.epochs = 5;
    jobs->startFineTune(o, 3000);
  } else {
    jobs->startPruneJob(job, 5, 3000);
  }
  QVERIFY(jobs->running());
  // Cancel once training has visibly started.
  QTRY_VERIFY_WITH_TIMEOUT(jobs->curvePoints() > 0 || finished.count() > 0, 40000);
  QCOMPARE(finished.count(), 0);
  // The GUI thread keeps running while the job trains.
  const double gap = guitest::maxEventLoopGapMs(400);
  qInfo("%s: longest event-loop gap while training %.1f ms", qPrintable(job), gap);
  QVERIFY2(gap < 250, qPrintable(QString::number(gap)));
  QCOMPARE(finished.count(), 0);
  QElapsedTimer t;
  t.start();
  jobs->cancel();
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
  qInfo("%s: cancel landed after %lld ms", qPrintable(job), static_cast<long long>(t.elapsed()));
  QVERIFY(t.elapsed() < 1000);
  QVERIFY(jobs->lastOutcome().cancelled);
  QVERIFY(!jobs->running());
  QCOMPARE(doc->model().get(), before.get());
  QCOMPARE(doc->undoStack()->count(), undoBefore);
  QCOMPARE(weightDiff(*doc->model()->graph, snapshot), 0.0);
}

QTEST_MAIN(TestJobs)
#include "test_jobs.moc"
