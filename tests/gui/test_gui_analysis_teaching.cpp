// Teaching mode walked from start to end on the demo model: each step puts
// its plan on the document, the workbench preview measures it, and the
// numbers change the way the step's text says they do. Back returns to the
// previous step's plan. Screenshot to guitest::screenshotDir()/analysis-teaching.png.
#include <QDir>
#include <QLabel>
#include <QTableWidget>
#include <QtTest>

#include "LoadedModel.h"
#include "ModelDocument.h"
#include "PreviewController.h"
#include "analysis/TeachingTour.h"
#include "gui_util.h"
#include "common/test_util.h"
#include "topiary/dataset.h"
#include "topiary/executor.h"

class TestGuiAnalysisTeaching : public QObject {
  Q_OBJECT
 private slots:
  void walkTheTour();
  void lockedLayersShareIsStated();
};

void TestGuiAnalysisTeaching::walkTheTour() {
  guitest::isolateSettings();
  auto m = LoadedModel::load(guitest::demoModelPath());
  QVERIFY(m);
  ModelDocument doc;
  doc.setModel(m.value());
  PreviewController preview(&doc);
  preview.setData("fashion-mnist", 300);
  TeachingTour tour(&doc);
  tour.resize(900, 760);
  tour.show();
  QCOMPARE(tour.stepCount(), 7);
  QSignalSpy measured(&tour, &TeachingTour::stepMeasured);
  auto walk = [&](int i) {
    measured.clear();
    if (i == 0)
      tour.goTo(0);
    else
      tour.next();
    QCOMPARE(tour.current(), i);
    QTRY_VERIFY2_WITH_TIMEOUT(!measured.isEmpty() && measured.last().at(0).toInt() == i,
                              qPrintable(QString("step %1: preview %2").arg(i).arg(doc.preview().error)), 30000);
    QVERIFY(doc.plan() == tour.planFor(i));
    QVERIFY(tour.measured(i));
    // The tour records the final preview, on all 300 images, never the first-stage estimate.
    QVERIFY(!tour.measured(i)->estimate);
    QCOMPARE(tour.measured(i)->samples, qint64(300));
  };
  // QVERIFY inside the lambda only leaves the lambda: stop the test too.
#define WALK(i)                             \
  do {                                      \
    walk(i);                                \
    if (QTest::currentTestFailed()) return; \
  } while (0)
  auto sparsity = [&](int step, const char* layer) { return tour.measured(step)->layerSparsity.value(layer, -1); };

  WALK(0);  // the neuron, dense model
  const PreviewResult& dense = *tour.measured(0);
  QCOMPARE(dense.nonzeroParams, dense.params);
  const NeuronExample& n = tour.neuron();
  QCOMPARE(n.layer, QString("fc2"));  // the last Gemm followed by a ReLU
  QCOMPARE(n.inputs, 120);
  QCOMPARE(n.topTerms.size(), 5);
  QVERIFY(n.u > 0);
  QCOMPARE(n.activation, n.u);
  // The shown equation adds up: listed terms + the rest + bias = u.
  double sum = n.bias + n.restSum;
  for (const auto& t : n.topTerms) sum += t.first * t.second;
  QVERIFY2(std::fabs(sum - n.u) < 1e-4 * std::max(1.0, std::fabs(n.u)), qPrintable(QString::number(sum - n.u)));
  // And u is what the network itself computes for that neuron.
  {
    topiary::DatasetOptions o;
    o.limit = 1;
    auto d = topiary::loadDataset("fashion-mnist", o);
    QVERIFY(d);
    auto ex = topiary::Executor::create(*m.value()->graph);
    QVERIFY(ex);
    QVERIFY((*ex)->run(d->images));
    std::string out;
    for (const auto& node : m.value()->graph->nodes)
      if (node.name == "fc2") out = node.outputs[0];
    const topiary::Tensor* y = (*ex)->value(out);
    QVERIFY(y);
    QVERIFY2(std::fabs(y->f()[n.neuron] - n.u) < 1e-4 * std::max(1.0, std::fabs(n.u)),
             qPrintable(QString::number(y->f()[n.neuron])));
  }
  // Terms are listed by |w x|, largest first.
  for (int i = 1; i < n.topTerms.size(); ++i)
    QVERIFY(std::fabs(n.topTerms[i].first * n.topTerms[i].second) <=
            std::fabs(n.topTerms[i - 1].first * n.topTerms[i - 1].second));

  const QString dir = guitest::screenshotDir();
  QVERIFY(tour.grab().toImage().save(dir + "/analysis-teaching-neuron.png"));

  WALK(1);  // connection pruning: half of every layer's weights
  QVERIFY(std::fabs(sparsity(1, "conv2") - 0.5) < 0.01);
  QVERIFY(std::fabs(sparsity(1, "fc1") - 0.5) < 0.01);
  QCOMPARE(sparsity(1, "conv1"), 0.0);  // first and last layers stay dense in the tour
  QCOMPARE(sparsity(1, "fc3"), 0.0);
  QVERIFY(tour.measured(1)->nonzeroParams < qint64(0.55 * dense.params));

  WALK(2);  // neuron pruning: half the filters, physically smaller
  QVERIFY(tour.measured(2)->storageName.startsWith("structured"));
  QVERIFY(std::fabs(sparsity(2, "conv2") - 0.5) < 0.01);
  QVERIFY(tour.measured(2)->storageBytes < qint64(0.6 * dense.storageBytes));

  WALK(3);  // 90% unstructured
  QVERIFY(std::fabs(sparsity(3, "fc1") - 0.9) < 0.01);
  QVERIFY(tour.measured(3)->nonzeroParams < tour.measured(2)->nonzeroParams);

  WALK(4);  // static vs dynamic: the static plan of step 3, plus run-time skipping
  QVERIFY(doc.plan() == tour.planFor(2));
  // Measured, not assumed: LeNet-5 leaves almost no channel silent, so this is near 0.
  QVERIFY(tour.dynamicSavedApproxFraction() > tour.dynamicSavedFraction());
  QVERIFY2(tour.dynamicSavedFraction() >= 0 && tour.dynamicSavedFraction() < 1,
           qPrintable(tour.findChildren<QLabel*>().at(1)->text()));

  WALK(5);  // 2:4
  QVERIFY(tour.measured(5)->storageName.startsWith("nm"));
  QVERIFY(std::fabs(sparsity(5, "fc1") - 0.5) < 1e-9);

  WALK(6);  // 4-bit weights on 90% unstructured: the index dominates
  QVERIFY(tour.measured(6)->storageName.contains("4 bit"));
  QVERIFY(tour.measured(6)->storageBytes < tour.measured(3)->storageBytes);
  const IndexOverhead& o = tour.indexOverhead();
  QVERIFY(o.valueBytes4 < o.valueBytes32 / 4);
  QCOMPARE(o.indexBytes4, o.indexBytes32);  // positions do not shrink with the values
  QVERIFY(o.indexBytes4 > o.valueBytes4);
  QVERIFY(tour.illustration().contains("index"));

  // Every row counts its nonzero weights out of the model as loaded: the
  // filter step's smaller model must not read "16416 / 16416".
  auto* table = tour.findChild<QTableWidget*>();
  QVERIFY(table);
  QCOMPARE(table->rowCount(), 7);
  for (int row = 0; row < table->rowCount(); ++row) {
    const QString cell = table->item(row, 2)->text();
    QVERIFY2(cell.endsWith(QString(" / %1").arg(dense.params)), qPrintable(cell));
  }
  QVERIFY2(table->item(2, 2)->text() == QString("%1 / %2").arg(tour.measured(2)->nonzeroParams).arg(dense.params),
           qPrintable(table->item(2, 2)->text()));
  QVERIFY(tour.measured(2)->params < dense.params);  // physically smaller

  QVERIFY(tour.grab().toImage().save(dir + "/analysis-teaching.png"));

  tour.back();
  QCOMPARE(tour.current(), 5);
  QVERIFY(doc.plan() == tour.planFor(5));
}

// On lenet-300-100 the tour's locked first layer holds most of the weights,
// so "50% of every layer" removes far less of the model: the illustration
// says how much the first and last layers hold, from the layers' own counts.
void TestGuiAnalysisTeaching::lockedLayersShareIsStated() {
  guitest::isolateSettings();
  auto m = LoadedModel::load(QString::fromStdString(testutil::sourcePath("resources/models/lenet-300-100.onnx")));
  QVERIFY2(m, m ? "" : m.status().message().c_str());
  ModelDocument doc;
  doc.setModel(m.value());
  TeachingTour tour(&doc);
  const auto& layers = m.value()->layers;
  QVERIFY(layers.size() == 3);
  qint64 total = 0;
  for (const auto& l : layers) total += l.params;
  const double share = static_cast<double>(layers.front().params + layers.back().params) / static_cast<double>(total);
  QVERIFY(share > 0.8);  // fc1 (784 x 300) and fc3 against fc2 (300 x 100)
  tour.goTo(0);
  QVERIFY(!tour.illustration().contains("stay whole"));  // the dense step prunes nothing
  tour.goTo(1);
  const QString text = tour.illustration();
  QVERIFY2(text.contains(layers.front().name + " and " + layers.back().name + " stay whole"), qPrintable(text));
  QVERIFY2(text.contains(QString("%1% of this model's weights").arg(share * 100, 0, 'f', 0)), qPrintable(text));
  QVERIFY2(text.contains(QString("other %1%").arg((1 - share) * 100, 0, 'f', 0)), qPrintable(text));
}

QTEST_MAIN(TestGuiAnalysisTeaching)
#include "test_gui_analysis_teaching.moc"
