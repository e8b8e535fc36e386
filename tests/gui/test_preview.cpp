// The preview worker on every bundled demo model: a plan at 50% computes
// accuracy, size, FLOPs and latency; the time of each phase is printed (the
// live preview must stay well under a second on these models).
#include <QDir>
#include <QtTest>

#include "LoadedModel.h"
#include "PreviewWorker.h"
#include "common/test_util.h"
#include "gui_util.h"

class TestPreview : public QObject {
  Q_OBJECT
 private slots:
  void demoModels_data();
  void demoModels();
};

void TestPreview::demoModels_data() {
  QTest::addColumn<QString>("path");
  const QDir dir(QString::fromStdString(testutil::sourcePath("resources/models")));
  for (const QString& f : dir.entryList({"*.onnx"}, QDir::Files, QDir::Name))
    QTest::newRow(qPrintable(f)) << dir.filePath(f);
  if (dir.entryList({"*.onnx"}, QDir::Files).isEmpty()) QTest::newRow("generated") << guitest::demoModelPath();
}

void TestPreview::demoModels() {
  QFETCH(QString, path);
  auto m = LoadedModel::load(path);
  QVERIFY2(m, m ? "" : m.status().message().c_str());
  auto latest = std::make_shared<std::atomic<quint64>>(1);
  PreviewWorker worker(latest);
  PrunePlan plan;
  plan.setAllSparsity(0.5);
  PreviewRequest req;
  req.generation = 1;
  req.model = m.value();
  req.plan = plan;
  req.threads = 1;
  worker.compute(req);  // first run loads the validation images
  QVector<double> ms;
  PreviewResult r;
  for (int i = 0; i < 3; ++i) {
    r = worker.compute(req);
    QVERIFY2(r.ok, qPrintable(r.error));
    ms.push_back(r.elapsedMs);
  }
  std::sort(ms.begin(), ms.end());
  QStringList phases;
  for (auto it = r.phaseMs.begin(); it != r.phaseMs.end(); ++it) phases << QString("%1 %2").arg(it.key()).arg(it.value(), 0, 'f', 1);
  qInfo("%s at 50%%: median %.1f ms (%s); accuracy %.4f on %lld images, %lld -> %lld nonzero params, latency %.3f ms",
        qPrintable(QFileInfo(path).fileName()), ms[1], qPrintable(phases.join(", ")), r.accuracy,
        static_cast<long long>(r.samples), static_cast<long long>(m.value()->graph->nonzeroParamCount()),
        static_cast<long long>(r.nonzeroParams), r.latencyMs);
  QVERIFY(r.accuracyValid);
  QCOMPARE(r.samples, PreviewWorker::kDefaultValidationImages);
  QVERIFY(r.nonzeroParams < qint64(m.value()->graph->nonzeroParamCount()));
  QVERIFY(r.latencyMs > 0);
  QVERIFY2(ms[1] < 3000, qPrintable(QString::number(ms[1])));  // loose: the machine may be busy
}

QTEST_MAIN(TestPreview)
#include "test_preview.moc"
