// The analysis views on the demo model (offscreen, small data subsets):
// sensitivity curves (one point per sparsity, falling for some layer, cached,
// click and apply-to-all set the plan), the verdict's numbers against the
// engine's own measurements, dynamic skipping against dynamic.h and the
// plan's static channels, network surgery counts, the GUI report folder.
// Each view is also written to guitest::screenshotDir().
#include <QChart>
#include <QChartView>
#include <QDir>
#include <QLineSeries>
#include <QtTest>

#include <QDockWidget>
#include <QMenuBar>

#include "LoadedModel.h"
#include "MainWindow.h"
#include "analysis/AnalysisMenu.h"
#include "ModelDocument.h"
#include "PreviewController.h"
#include "analysis/DynamicView.h"
#include "analysis/ReportExporter.h"
#include "analysis/SensitivityView.h"
#include "analysis/VerdictView.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/dataset.h"
#include "topiary/dynamic.h"
#include "topiary/file_util.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"
#include "topiary/train.h"

namespace {

void screenshot(QWidget* w, const char* name, QSize size = QSize(1000, 640)) {
  const QString dir = guitest::screenshotDir();
  w->resize(size);
  w->show();
  QCoreApplication::processEvents();
  const QImage img = w->grab().toImage();
  QVERIFY(img.save(dir + "/" + name));
}

}  // namespace

class TestGuiAnalysis : public QObject {
  Q_OBJECT
  std::shared_ptr<const LoadedModel> model_;
  topiary::Dataset data_;

 private slots:
  void initTestCase();
  void sensitivityCurves();
  void verdictMatchesEngine();
  void dynamicSkipping();
  void reportFolder();
  void menuInWorkbench();
};

void TestGuiAnalysis::initTestCase() {
  guitest::isolateSettings();
  auto m = LoadedModel::load(guitest::demoModelPath());
  QVERIFY2(m, m ? "" : m.status().message().c_str());
  model_ = m.value();
  topiary::DatasetOptions o;
  o.limit = 300;
  auto d = topiary::loadDataset("fashion-mnist", o);
  QVERIFY2(d, d ? "" : d.status().message().c_str());
  data_ = std::move(d.value());
}

void TestGuiAnalysis::sensitivityCurves() {
  ModelDocument doc;
  doc.setModel(model_);
  SensitivityView view(&doc);
  view.setData("fashion-mnist", 300);
  view.setSparsities({0.3, 0.6, 0.9});
  view.setGranularity("element");
  view.setTolerance(0.02);
  QSignalSpy done(&view, &SensitivityView::finished);
  view.compute();
  QVERIFY(view.busy());
  QVERIFY(done.wait(60000));
  QCOMPARE(done.last().at(0).toBool(), true);
  const topiary::SensitivityResult* r = view.result();
  QVERIFY(r);
  QCOMPARE(r->samples, qint64(300));
  int analysed = 0, falling = 0;
  for (const auto& c : r->layers) {
    if (!c.skipped.empty()) continue;
    ++analysed;
    QCOMPARE(c.accuracies.size(), size_t(3));
    QVERIFY(c.sparsities == (std::vector<double>{0.3, 0.6, 0.9}));
    falling += c.accuracies[2] < c.accuracies[0] - 0.02;
  }
  QCOMPARE(analysed, 5);  // conv1, conv2, fc1, fc2, fc3
  QVERIFY(falling >= 1);
  const auto series = view.chartView()->chart()->series();
  QCOMPARE(series.size(), analysed + 1);  // + the tolerance line
  QVERIFY(static_cast<QLineSeries*>(series[0])->color() != static_cast<QLineSeries*>(series[1])->color());

  // Same model and settings: taken from the cache, synchronously.
  view.compute();
  QCOMPARE(view.cacheHits(), 1);
  QCOMPARE(done.count(), 2);

  // A click on conv1's curve: its sparsity becomes the largest point within the tolerance.
  const auto& conv1 =
      *std::find_if(r->layers.begin(), r->layers.end(), [](const auto& c) { return c.layer == "conv1"; });
  const double expect = topiary::sparsityAtTolerance(conv1.sparsities, conv1.accuracies, r->denseAccuracy, 0.02);
  QCOMPARE(view.pickLayer("conv1"), expect);
  QCOMPARE(doc.plan().layerPlan("conv1").sparsity, expect);
  QCOMPARE(doc.plan().layerPlan("conv1").granularity, QString("element"));

  // Apply to all: one undo step, every analysed layer at its own tolerance sparsity.
  const int before = doc.undoStack()->count();
  QCOMPARE(view.applyAllAtTolerance(), analysed);
  QCOMPARE(doc.undoStack()->count(), before + 1);
  for (const auto& c : r->layers)
    QCOMPARE(doc.plan().layerPlan(QString::fromStdString(c.layer)).sparsity,
             topiary::sparsityAtTolerance(c.sparsities, c.accuracies, r->denseAccuracy, 0.02));
  screenshot(&view, "analysis-sensitivity.png");
}

void TestGuiAnalysis::verdictMatchesEngine() {
  ModelDocument doc;
  doc.setModel(model_);
  VerdictView view(&doc);
  view.setData("fashion-mnist", 300);
  view.setTolerance(0.02);
  view.setLatencyRuns(5);
  QSignalSpy done(&view, &VerdictView::finished);
  view.compute();
  QVERIFY(done.wait(60000));
  QCOMPARE(done.last().at(0).toBool(), true);
  const topiary::Verdict* v = view.verdict();
  QVERIFY(v);
  QCOMPARE(int(v->bars.size()), 18);  // 6 formats x 32, 8, 4 bits
  QCOMPARE(view.verdictText(), QString::fromStdString(v->sentence));
  QVERIFY(!v->sentence.empty());
  auto dense = topiary::evaluate(*model_->graph, data_);
  QVERIFY(dense);
  // Multi-threaded kernels may sum in another order between runs: allow one sample of 300 to flip.
  const double oneSample = 1.0 / 300 + 1e-12;
  QVERIFY(std::fabs(v->denseAccuracy - dense->accuracy) <= oneSample);

  // Each candidate, rebuilt from its recipe by the engine: same accuracy, same storage bars.
  for (const auto& c : v->candidates) {
    auto recipe = topiary::recipeFromJson(c.recipe);
    QVERIFY(recipe);
    auto run = topiary::runRecipe(*model_->graph, recipe.value());
    QVERIFY(run);
    auto ev = topiary::evaluate(run->masked, data_);
    QVERIFY(ev);
    QVERIFY2(std::fabs(c.accuracy - ev->accuracy) <= oneSample, c.name.c_str());
    QVERIFY2(c.accuracy >= v->denseAccuracy - 0.02 - 1e-9 || c.name == "nm", c.name.c_str());
    QCOMPARE(c.weightSparsity, topiary::prunableSparsity(run->masked));
    for (int bits : v->bits) {
      topiary::StorageOptions so;
      so.bits = bits;
      const topiary::ModelStorage s = topiary::measureStorage(run->masked, so);
      for (const auto& b : v->bars) {
        if (b.bits != bits || b.candidate != c.name) continue;
        const auto& t = s.totals.at(b.format);
        QCOMPARE(b.indexBytes, t.indexBits / 8.0);
        QCOMPARE(b.total(), t.bytes());
      }
    }
  }
  // Unstructured goes further than structured at the same accuracy on LeNet-5.
  QVERIFY(v->candidate("unstructured")->weightSparsity > v->candidate("structured")->weightSparsity);
  int measured = 0;
  for (const auto& l : v->latencies) measured += l.measured;
  QCOMPARE(measured, 6);  // dense, unstructured, physically pruned; each with dense kernels and optimised
  QVERIFY(v->latencies[4].label == "unstructured, sparse kernels" && !v->latencies[4].note.empty());
  QCOMPARE(view.charts().size(), 3);  // one chart per bit-width
  QCOMPARE(view.charts()[0]->chart()->series().size(), 1);
  screenshot(&view, "analysis-verdict.png", QSize(1100, 820));
}

void TestGuiAnalysis::dynamicSkipping() {
  ModelDocument doc;
  doc.setModel(model_);
  PreviewController preview(&doc);
  preview.setData("fashion-mnist", 100);
  doc.editAllSparsity(0.5);  // filter granularity (the default): half of conv1's filters go
  QTRY_VERIFY_WITH_TIMEOUT(doc.hasPreview() && doc.preview().plan == doc.plan(), 30000);
  DynamicView view(&doc);
  view.setImageIndex(3);
  QSignalSpy analyzed(&view, &DynamicView::analyzed);
  view.analyze();
  QVERIFY(analyzed.wait(30000));
  QCOMPARE(analyzed.last().at(0).toBool(), true);

  topiary::Tensor img;
  data_.batch(3, 1, img);
  auto direct = topiary::analyzeDynamicSkipping(*model_->graph, img);
  QVERIFY(direct);
  QCOMPARE(view.rows().size(), int(direct->layers.size()));
  QCOMPARE(view.savedFraction(), direct->meanSavedFraction);
  QCOMPARE(view.label(), data_.labels[3]);
  bool sawConv2 = false;
  for (int i = 0; i < view.rows().size(); ++i) {
    QCOMPARE(view.rows()[i].skippedDynamic, direct->layers[size_t(i)].meanSkippedChannels);
    if (view.rows()[i].node == "conv2") {
      sawConv2 = true;
      QCOMPARE(view.rows()[i].channels, qint64(6));
      QCOMPARE(view.rows()[i].skippedStatic, qint64(3));  // the 3 conv1 filters the plan removes
    }
  }
  QVERIFY(sawConv2);

  // With a threshold, nearly silent channels are skipped too: the view's numbers are dynamic.h's.
  double previous = view.savedFraction();
  for (double t : {0.5, 2.0, 1.0}) {
    view.setThreshold(t);
    view.analyze();
    QVERIFY(analyzed.wait(30000));
    topiary::DynamicOptions o;
    o.threshold = float(t);
    auto d = topiary::analyzeDynamicSkipping(*model_->graph, img, o);
    QVERIFY(d);
    QCOMPARE(view.savedFraction(), d->meanSavedFraction);
    qInfo("threshold %.1f: %.1f%% of the FLOPs saved", t, 100 * d->meanSavedFraction);
    if (t == 0.5) QVERIFY(d->meanSavedFraction >= previous);
    if (t == 2.0) QVERIFY(d->meanSavedFraction > 0.3);                                   // measured 56.5% on image 3
    if (t == 1.0) QVERIFY(d->meanSavedFraction > 0 && d->meanSavedFraction < previous);  // below 2.0's
    previous = d->meanSavedFraction;
  }

  QSignalSpy surgery(&view, &DynamicView::surgeryFinished);
  view.runSurgery(0.8, 1000, 30);
  QVERIFY(surgery.wait(60000));
  QCOMPARE(surgery.last().at(0).toBool(), true);
  QCOMPARE(int(view.surgery().size()), 5);
  qint64 back = 0;
  for (const auto& l : view.surgery()) {
    const double pruned = double(l.pruned) / double(l.weights);
    QVERIFY2(pruned > 0.5 && pruned < 0.95, l.node.c_str());
    back += l.spliceBacks;
  }
  qInfo("network surgery: %lld weights spliced back", static_cast<long long>(back));
  QVERIFY(back > 0);
  screenshot(&view, "analysis-dynamic.png");
}

void TestGuiAnalysis::reportFolder() {
  ModelDocument doc;
  doc.setModel(model_);
  PrunePlan plan;
  GlobalPlan g;
  g.granularity = "element";
  g.sparsity = 0.6;
  plan.setGlobal(g);
  doc.restorePlan(plan, "test");
  ReportExporter exporter(&doc);
  exporter.setData("fashion-mnist", 200);
  exporter.setLatencyRuns(3);
  exporter.setSparsities({0.5, 0.9});
  const QString dir = QString::fromStdString(testutil::tempDir()) + "/gui-report";
  QSignalSpy done(&exporter, &ReportExporter::finished);
  QVERIFY(exporter.exportTo(dir));
  QVERIFY(!exporter.exportTo(dir));  // busy
  QVERIFY(done.wait(60000));
  QVERIFY2(done.last().at(0).toBool(), qPrintable(done.last().at(1).toString()));
  for (const char* f : {"index.html", "tradeoff.png", "sensitivity.png", "storage.png", "recipe.json", "report.json"})
    QVERIFY2(QFileInfo(dir + "/" + f).size() > 100, f);
  const std::string html = topiary::readFile((dir + "/index.html").toStdString()).value();
  QVERIFY(html.find("recipe <b>workbench plan</b>") != std::string::npos);
  QVERIFY(html.find("&quot;sparsity&quot;: 0.6") != std::string::npos);
  QImage chart(dir + "/storage.png");
  QCOMPARE(chart.size(), QSize(1000, 520));
  // Copies of the report's charts for the README.
  const QString shots = guitest::screenshotDir() + "/";
  for (const char* f : {"tradeoff.png", "sensitivity.png", "storage.png"}) {
    QFile::remove(shots + "report-" + f);
    QVERIFY(QFile::copy(dir + "/" + f, shots + "report-" + f));
  }
}

// The workbench builds the Analysis menu; its entries open the docks.
void TestGuiAnalysis::menuInWorkbench() {
  MainWindow w;
  auto* menu = w.findChild<AnalysisMenu*>();
  QVERIFY(menu);
  QStringList titles;
  for (QAction* a : w.menuBar()->actions()) titles << a->text();
  QVERIFY2(titles.contains("&Analysis"), qPrintable(titles.join(",")));
  w.show();
  auto* dock = qobject_cast<QDockWidget*>(menu->verdict()->parentWidget());
  QVERIFY(dock);
  QVERIFY(!dock->isVisible());
  menu->show(menu->verdict());
  QVERIFY(dock->isVisible());
  QCOMPARE(dock->objectName(), QString("VerdictDock"));
}

QTEST_MAIN(TestGuiAnalysis)
#include "test_gui_analysis.moc"
