// The preview worker on the bundled demo models.
//  - turnaround: a 50% plan at filter and at element granularity computes
//    accuracy, size, FLOPs and latency; the median of three runs and the
//    time of each phase are printed (the README quotes them; wall-clock
//    times are not asserted).
//  - matchesRecipeRun: the preview's masks, parameter counts, ONNX size and
//    accuracy (within a few images: Conv kernels are chosen by timing)
//    equal those of topiary::runRecipe (what `topiary-cli prune` runs) for
//    the same recipe, gradual schedules included (the preview replays their
//    steps without training); the smaller model computes what the masked one does.
//  - latencyAsTheCli: the latency executor is set up as `topiary-cli bench`.
//  - progressive: a preview first publishes an estimate on 256 images (with
//    size, FLOPs and latency), then the accuracy on all 1,000, equal to the
//    engine's evaluation of runRecipe's model; prints the time to each stage
//    (median of 3) for element, filter and 2:4 edits on the demo models.
//  - newerEditCancelsRefinement: an edit made while an older preview refines
//    cancels that refinement; the older result never reaches the document.
#include <QDir>
#include <QJsonDocument>
#include <QtTest>

#include "LoadedModel.h"
#include "ModelDocument.h"
#include "ParetoChart.h"
#include "PreviewController.h"
#include "PreviewPanel.h"
#include "PreviewWorker.h"
#include "ValidationData.h"
#include "arch/graph_builder.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"
#include "topiary/train.h"

class TestPreview : public QObject {
  Q_OBJECT
 private slots:
  void turnaround_data();
  void turnaround();
  void matchesRecipeRun_data();
  void matchesRecipeRun();
  void latencyAsTheCli();
  void progressive_data();
  void progressive();
  void newerEditCancelsRefinement();
  void channelsLastModelGetsItsImages();
};

namespace {

QString modelPath(const QString& file) {
  const QString p = QString::fromStdString(testutil::sourcePath("resources/models/" + file.toStdString()));
  return QFileInfo::exists(p) ? p : QString();
}

PrunePlan planFor(const QString& granularity, double sparsity, const QString& schedule = "one-shot", int steps = 4) {
  PrunePlan plan;
  GlobalPlan g = plan.global();
  g.granularity = granularity;
  g.schedule = schedule;
  g.scheduleSteps = steps;
  plan.setGlobal(g);
  plan.setAllSparsity(sparsity);
  return plan;
}

// Largest |a - b| over the logits of the first `n` validation images.
double maxOutputDifference(const topiary::Graph& a, const topiary::Graph& b, const topiary::Dataset& data, int n) {
  auto ea = topiary::Executor::create(a);
  auto eb = topiary::Executor::create(b);
  if (!ea || !eb) return 1e9;
  topiary::Tensor in;
  data.batch(0, n, in);
  if (!(*ea)->run(in) || !(*eb)->run(in)) return 1e9;
  const topiary::Tensor& oa = (*ea)->output(0);
  const topiary::Tensor& ob = (*eb)->output(0);
  if (oa.numel() != ob.numel()) return 1e9;
  double worst = 0;
  for (int64_t i = 0; i < oa.numel(); ++i) worst = std::max(worst, double(std::abs(oa.f()[i] - ob.f()[i])));
  return worst;
}

}  // namespace

void TestPreview::turnaround_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QString>("granularity");
  for (const char* f : {"lenet5.onnx", "resnet8.onnx", "mobilenet-tiny.onnx"})
    for (const char* g : {"filter", "element"}) QTest::newRow(qPrintable(QString("%1 %2").arg(f, g))) << f << g;
}

void TestPreview::turnaround() {
  QFETCH(QString, file);
  QFETCH(QString, granularity);
  const QString path = modelPath(file);
  if (path.isEmpty()) QSKIP("demo model not bundled");
  auto m = LoadedModel::load(path);
  QVERIFY2(m, m ? "" : m.status().message().c_str());
  auto latest = std::make_shared<std::atomic<quint64>>(1);
  PreviewWorker worker(latest);
  PreviewRequest req;
  req.generation = 1;
  req.model = m.value();
  req.plan = planFor(granularity, 0.5);
  req.threads = 1;
  worker.compute(req);  // first run loads the validation images
  const size_t timed = worker.tuneCache().misses();
  QVector<double> ms;
  PreviewResult r;
  for (int i = 0; i < 3; ++i) {
    r = worker.compute(req);
    QVERIFY2(r.ok, qPrintable(r.error));
    ms.push_back(r.elapsedMs);
  }
  // The same plan again: every Conv/Gemm reuses the kernel it was timed to.
  QVERIFY(timed > 0);
  QCOMPARE(worker.tuneCache().misses(), timed);
  QVERIFY(worker.tuneCache().hits() >= 3 * timed);
  std::sort(ms.begin(), ms.end());
  QStringList phases;
  for (auto it = r.phaseMs.begin(); it != r.phaseMs.end(); ++it)
    phases << QString("%1 %2").arg(it.key()).arg(it.value(), 0, 'f', 1);
  qInfo("%s %s 50%%: median %.1f ms (%s); accuracy %.4f on %lld images, %lld -> %lld params, latency %.3f ms",
        qPrintable(file), qPrintable(granularity), ms[1], qPrintable(phases.join(", ")), r.accuracy,
        static_cast<long long>(r.samples), static_cast<long long>(m.value()->graph->paramCount()),
        static_cast<long long>(r.params), r.latencyMs);
  QVERIFY(r.accuracyValid);
  QCOMPARE(r.samples, PreviewWorker::kDefaultValidationImages);
  QVERIFY(r.nonzeroParams < qint64(m.value()->graph->nonzeroParamCount()));
  // Filter pruning removes channels physically on every demo model (the
  // preview no longer falls back to the masked model on MobileNet).
  if (granularity == "filter") {
    QVERIFY(r.channelsRemoved > 0);
    QVERIFY(r.params < qint64(m.value()->graph->paramCount()));
    QVERIFY2(r.notes.filter("too slow").isEmpty(), qPrintable(r.notes.join('\n')));
  } else {
    QCOMPARE(r.params, qint64(m.value()->graph->paramCount()));
  }
  QVERIFY(r.latencyMs > 0);
}

void TestPreview::matchesRecipeRun_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QString>("granularity");
  QTest::addColumn<QString>("schedule");
  QTest::addColumn<int>("bits");
  QTest::newRow("lenet5 filter") << "lenet5.onnx" << "filter" << "one-shot" << 0;
  QTest::newRow("lenet5 element agp") << "lenet5.onnx" << "element" << "agp" << 0;
  QTest::newRow("resnet8 filter") << "resnet8.onnx" << "filter" << "one-shot" << 0;
  QTest::newRow("resnet8 filter agp") << "resnet8.onnx" << "filter" << "agp" << 0;
  QTest::newRow("resnet8 channel iterative") << "resnet8.onnx" << "channel" << "iterative" << 0;
  QTest::newRow("mobilenet-tiny filter") << "mobilenet-tiny.onnx" << "filter" << "one-shot" << 0;
  QTest::newRow("mobilenet-tiny filter 8 bit") << "mobilenet-tiny.onnx" << "filter" << "one-shot" << 8;
  QTest::newRow("mobilenet-tiny kernel agp") << "mobilenet-tiny.onnx" << "kernel" << "agp" << 0;
}

void TestPreview::matchesRecipeRun() {
  QFETCH(QString, file);
  QFETCH(QString, granularity);
  QFETCH(QString, schedule);
  QFETCH(int, bits);
  const QString path = modelPath(file);
  if (path.isEmpty()) QSKIP("demo model not bundled");
  auto m = LoadedModel::load(path);
  QVERIFY(m);
  PrunePlan plan = planFor(granularity, 0.5, schedule);
  GlobalPlan g = plan.global();
  g.quantBits = bits;
  plan.setGlobal(g);

  auto latest = std::make_shared<std::atomic<quint64>>(1);
  PreviewWorker worker(latest);
  PreviewRequest req;
  req.generation = 1;
  req.model = m.value();
  req.plan = plan;
  req.threads = 1;
  req.measureLatency = false;
  const PreviewResult r = worker.compute(req);
  QVERIFY2(r.ok, qPrintable(r.error));
  if (schedule != "one-shot") QVERIFY2(!r.notes.filter("schedule").isEmpty(), qPrintable(r.notes.join('\n')));

  // What `topiary-cli prune --recipe` runs (no fine-tuning section: no data needed).
  const QByteArray json = QJsonDocument(plan.toRecipe()).toJson(QJsonDocument::Compact);
  auto recipe = topiary::parseRecipe(json.toStdString());
  QVERIFY2(recipe, recipe ? "" : recipe.status().message().c_str());
  auto run = topiary::runRecipe(*m.value()->graph, recipe.value());
  QVERIFY2(run, run ? "" : run.status().message().c_str());

  // Same masks, bit for bit.
  QVERIFY(r.masks);
  QCOMPARE(r.masks->size(), run->masks.size());
  for (const auto& kv : run->masks) {
    auto it = r.masks->find(kv.first);
    QVERIFY2(it != r.masks->end(), kv.first.c_str());
    QCOMPARE(it->second.shape(), kv.second.shape());
    QVERIFY2(std::equal(kv.second.f(), kv.second.f() + kv.second.numel(), it->second.f()), kv.first.c_str());
  }
  // Same smaller model: counts and the ONNX file's size.
  QCOMPARE(r.params, qint64(run->removed.paramCount()));
  QCOMPARE(r.nonzeroParams, qint64(run->removed.nonzeroParamCount()));
  auto bytes = topiary::serializeModel(run->removed);
  QVERIFY(bytes);
  QCOMPARE(r.denseBytes, qint64(bytes->size()));
  QCOMPARE(r.structural, run->structural);
  if (granularity == "filter" || granularity == "channel") QVERIFY(r.channelsRemoved > 0);

  // Same accuracy on the same images, and the removal is exact.
  ValidationData data("fashion-mnist", PreviewWorker::kDefaultValidationImages);
  const topiary::Dataset* images = data.forGraph(*m.value()->graph, nullptr);
  QVERIFY(images);
  auto ev = topiary::evaluate(run->removed, *images, 250, 1);
  QVERIFY(ev);
  // The Conv kernels are picked by timing them on the first run (direct,
  // GEMM, Winograd), so two executors may round differently and flip a
  // near-tie argmax: at most a few of the 1,000 images (the weights are equal).
  QVERIFY2(std::abs(r.accuracy - ev->accuracy) <= 0.005,
           qPrintable(QString("%1 vs %2").arg(r.accuracy).arg(ev->accuracy)));
  QCOMPARE(r.samples, qint64(ev->samples));
  const double diff = maxOutputDifference(run->masked, run->removed, *images, 16);
  QVERIFY2(diff < 1e-3, qPrintable(QString::number(diff)));
}

void TestPreview::latencyAsTheCli() {
  // `topiary-cli bench` runs the inference optimiser unless --no-optimize;
  // the preview's latency executor must do the same.
  const topiary::ExecutorOptions eo = PreviewWorker::latencyOptions(1);
  QVERIFY(eo.optimizeForInference);
  QCOMPARE(eo.threads, 1);
  const QString path = modelPath("resnet8.onnx");
  if (path.isEmpty()) QSKIP("demo model not bundled");
  auto m = LoadedModel::load(path);
  QVERIFY(m);
  // The optimised executor folds BatchNorm and fuses activations: it runs
  // fewer nodes than the graph has (so the option really takes effect).
  auto ex = topiary::Executor::create(*m.value()->graph, eo);
  QVERIFY(ex);
  auto t = topiary::makeInputLike(m.value()->graph->inputs[0], 1);
  QVERIFY(t);
  QVERIFY((*ex)->run(t.value()));
  QVERIFY(!(*ex)->optimizationLog().empty());
}

void TestPreview::progressive_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QString>("granularity");
  for (const char* f : {"lenet5.onnx", "resnet8.onnx", "mobilenet-tiny.onnx"})
    for (const char* g : {"element", "filter", "nm"}) QTest::newRow(qPrintable(QString("%1 %2").arg(f, g))) << f << g;
}

// The printed times are medians of 3 runs; under the sanitizers, where times
// mean nothing, one run checks the same values at a third of the cost.
#ifdef TOPIARY_SANITIZED
constexpr int kTimedRuns = 1;
#else
constexpr int kTimedRuns = 3;
#endif

void TestPreview::progressive() {
  QFETCH(QString, file);
  QFETCH(QString, granularity);
  const QString path = modelPath(file);
  if (path.isEmpty()) QSKIP("demo model not bundled");
  auto m = LoadedModel::load(path);
  QVERIFY(m);
  auto latest = std::make_shared<std::atomic<quint64>>(1);
  PreviewWorker worker(latest);
  PreviewRequest req;
  req.generation = 1;
  req.model = m.value();
  req.plan = planFor(granularity, 0.5);  // "nm" without n, m: the recipe's default 2:4
  req.threads = 1;
  QCOMPARE(req.firstStageImages, qint64(256));
  worker.compute(req);  // loads the validation images
  QVector<double> firstMs, finalMs;
  PreviewResult estimate, final;
  for (int run = 0; run < kTimedRuns; ++run) {
    QElapsedTimer t;
    t.start();
    int estimates = 0;
    double atEstimate = -1;
    final = worker.compute(req, [&](const PreviewResult& e) {
      atEstimate = t.nsecsElapsed() / 1e6;
      estimate = e;
      ++estimates;
    });
    const double atFinal = t.nsecsElapsed() / 1e6;
    QVERIFY2(final.ok, qPrintable(final.error));
    QCOMPARE(estimates, 1);  // the first stage arrived, before compute returned the final one
    QVERIFY(atEstimate > 0 && atEstimate < atFinal);
    firstMs << atEstimate;
    finalMs << atFinal;
  }
  // The estimate: its sample count, marked, with a standard error.
  QVERIFY(estimate.ok && estimate.estimate && estimate.accuracyValid);
  QCOMPARE(estimate.samples, qint64(256));
  QCOMPARE(estimate.totalSamples, PreviewWorker::kDefaultValidationImages);
  QVERIFY(estimate.accuracyStdErr > 0 && estimate.accuracyStdErr < 0.04);
  // The final: all images, and the data-independent numbers of the first stage.
  QVERIFY(!final.estimate && final.accuracyValid);
  QCOMPARE(final.samples, PreviewWorker::kDefaultValidationImages);
  QCOMPARE(final.accuracyStdErr, 0.0);
  QCOMPARE(final.generation, estimate.generation);
  QCOMPARE(final.storageBytes, estimate.storageBytes);
  QCOMPARE(final.nonzeroParams, estimate.nonzeroParams);
  QCOMPARE(final.effectiveFlops, estimate.effectiveFlops);
  QCOMPARE(final.latencyMs, estimate.latencyMs);
  QVERIFY(final.latencyMs > 0);
  QCOMPARE(final.firstStageMs, estimate.firstStageMs);

  // Both stages equal the engine's evaluation of what `topiary-cli prune` makes.
  const QByteArray json = QJsonDocument(req.plan.toRecipe()).toJson(QJsonDocument::Compact);
  auto recipe = topiary::parseRecipe(json.toStdString());
  QVERIFY(recipe);
  auto run = topiary::runRecipe(*m.value()->graph, recipe.value());
  QVERIFY2(run, run ? "" : run.status().message().c_str());
  QCOMPARE(final.nonzeroParams, qint64(run->removed.nonzeroParamCount()));
  for (qint64 n : {qint64(256), PreviewWorker::kDefaultValidationImages}) {
    ValidationData data("fashion-mnist", n);
    const topiary::Dataset* images = data.forGraph(*m.value()->graph, nullptr);
    QVERIFY(images);
    auto ev = topiary::evaluate(run->removed, *images, 250, 1);
    QVERIFY(ev);
    const PreviewResult& r = n == 256 ? estimate : final;
    QCOMPARE(r.samples, qint64(ev->samples));
    // Within two images: Conv kernels are chosen by timing (see matchesRecipeRun).
    QVERIFY2(std::abs(r.accuracy - ev->accuracy) * double(n) <= 2.0 + 1e-9,
             qPrintable(QString("%1 images: preview %2, engine %3").arg(n).arg(r.accuracy).arg(ev->accuracy)));
  }
  // The same preview in one stage, for comparison (same engine, same load).
  QVector<double> oneStageMs;
  PreviewRequest single = req;
  single.firstStageImages = 0;
  for (int run = 0; run < kTimedRuns; ++run) {
    const PreviewResult one = worker.compute(single);
    QVERIFY(one.ok && !one.estimate && one.firstStageMs == 0);
    QCOMPARE(one.samples, final.samples);
    oneStageMs << one.elapsedMs;
  }
  std::sort(oneStageMs.begin(), oneStageMs.end());
  std::sort(firstMs.begin(), firstMs.end());
  std::sort(finalMs.begin(), finalMs.end());
  QFile loadavg("/proc/loadavg");
  const QByteArray load = loadavg.open(QIODevice::ReadOnly) ? loadavg.readAll().trimmed() : QByteArray("?");
  QStringList phases;
  for (auto it = final.phaseMs.begin(); it != final.phaseMs.end(); ++it)
    phases << QString("%1 %2").arg(it.key()).arg(it.value(), 0, 'f', 1);
  qInfo(
      "%s %s 50%%: first stage %.0f ms (accuracy %.4f +- %.4f on %lld), final %.0f ms (accuracy %.4f on %lld), "
      "one stage %.0f ms; median of %d, 1 thread, loadavg %s; last run's phases (ms): %s",
      qPrintable(file), qPrintable(granularity), firstMs[kTimedRuns / 2], estimate.accuracy, estimate.accuracyStdErr,
      static_cast<long long>(estimate.samples), finalMs[kTimedRuns / 2], final.accuracy,
      static_cast<long long>(final.samples), oneStageMs[kTimedRuns / 2], kTimedRuns, load.constData(),
      qPrintable(phases.join(", ")));
}

void TestPreview::newerEditCancelsRefinement() {
  // ResNet-8 with element pruning: the refinement (744 images) takes
  // hundreds of milliseconds, so an edit made when the estimate arrives
  // lands while it runs.
  const QString path = modelPath("resnet8.onnx");
  if (path.isEmpty()) QSKIP("demo model not bundled");
  auto m = LoadedModel::load(path);
  QVERIFY(m);
  ModelDocument doc;
  PreviewController ctl(&doc);
  PreviewPanel panel(&doc);
  panel.resize(540, 460);
  QStringList events;  // "estimate G", "final G", "superseded G"
  QStringList estimateTexts;  // the panel's accuracy and status while showing an estimate
  QStringList chartMismatches;
  connect(&ctl, &PreviewController::estimateReady, this, [&](const PreviewResult& r) {
    events << QString("estimate %1").arg(r.generation);
    estimateTexts << panel.afterText("accuracy") + " | " + panel.statusText();
    if (estimateTexts.size() == 1) panel.grab().save(guitest::screenshotDir() + "/preview-estimate.png");
    // The charts draw the estimate as its own point, with a one-standard-error bar.
    const ParetoChart* c = panel.sizeChart();
    if (!c->hasPending() || std::abs(c->pendingPoint().y() - r.accuracy * 100) > 1e-9 ||
        std::abs(c->pendingPoint().x() - r.storageBytes / 1024.0) > 1e-9 ||
        std::abs(c->pendingBar().second - c->pendingBar().first - 2 * r.accuracyStdErr * 100) > 1e-6)
      chartMismatches << QString("estimate %1 not drawn as it is").arg(r.generation);
  });
  connect(&ctl, &PreviewController::resultReady, this,
          [&](const PreviewResult& r) { events << QString("final %1").arg(r.generation); });
  connect(&ctl, &PreviewController::superseded, this, [&](quint64 g) { events << QString("superseded %1").arg(g); });
  QVector<quint64> shown;
  connect(&doc, &ModelDocument::previewChanged, this, [&] {
    if (doc.hasPreview()) shown << doc.preview().generation;
  });
  doc.setModel(m.value());
  QTRY_VERIFY_WITH_TIMEOUT(doc.hasBaseline() && !doc.baseline().estimate && !ctl.busy(), 60000);

  PrunePlan plan;
  GlobalPlan g = plan.global();
  g.granularity = "element";
  doc.editGlobal(g, "element");
  QSignalSpy estimates(&ctl, &PreviewController::estimateReady);
  QSignalSpy finals(&ctl, &PreviewController::resultReady);
  doc.editAllSparsity(0.5);
  const quint64 older = ctl.latestGeneration();
  const PrunePlan olderPlan = doc.plan();
  QTRY_VERIFY_WITH_TIMEOUT(events.contains(QString("estimate %1").arg(older)), 60000);
  QVERIFY(doc.preview().estimate);
  QCOMPARE(doc.preview().generation, older);
  QVERIFY2(ctl.busy(), "the refinement should still run");
  doc.editAllSparsity(0.3);  // while the older one refines
  const quint64 newer = ctl.latestGeneration();
  QVERIFY(newer > older);
  QTRY_VERIFY_WITH_TIMEOUT(events.contains(QString("final %1").arg(newer)) && !ctl.busy(), 60000);
  qInfo("%s", qPrintable(events.join(", ")));
  // The older refinement was cancelled, and its result never shown.
  QVERIFY2(events.contains(QString("superseded %1").arg(older)), qPrintable(events.join(", ")));
  QVERIFY2(!events.contains(QString("final %1").arg(older)), qPrintable(events.join(", ")));
  // The newer one: its estimate first, then its final result, which stays.
  QVERIFY(events.indexOf(QString("estimate %1").arg(newer)) < events.indexOf(QString("final %1").arg(newer)));
  QVERIFY(std::is_sorted(shown.begin(), shown.end()));
  QCOMPARE(shown.last(), newer);
  QVERIFY(!doc.preview().estimate);
  QCOMPARE(doc.preview().samples, PreviewWorker::kDefaultValidationImages);
  QVERIFY2(chartMismatches.isEmpty(), qPrintable(chartMismatches.join(", ")));
  QVERIFY(!panel.sizeChart()->hasPending());  // the final result is a tried point, no longer an estimate
  QVERIFY(doc.preview().plan == doc.plan());
  // While an estimate shows, the panel says so, with its error and sample count.
  QVERIFY(!estimateTexts.isEmpty());
  for (const QString& t : estimateTexts)
    QVERIFY2(t.contains(QChar(0x00b1)) && t.contains("on 256 images") && t.contains("refining on 1000"), qPrintable(t));
  QVERIFY2(panel.statusText().contains("on 1000 images") && !panel.afterText("accuracy").contains(QChar(0x00b1)),
           qPrintable(panel.statusText()));
  // Only measured-on-all-images configurations become tried points.
  for (const TriedPoint& t : doc.tried()) QVERIFY(t.plan != olderPlan);
}

QTEST_MAIN(TestPreview)
#include "test_preview.moc"

// A TensorFlow-style model takes [N, 28, 28, 1]: the workbench's validation
// images ([N, 1, 28, 28], the same bytes) are offered to it and evaluate.
void TestPreview::channelsLastModelGetsItsImages() {
  topiary::arch::GraphBuilder b("nhwc", 5);
  std::string x = b.input("input_1", {28, 28, 1});
  x = b.node("Transpose", "to_nchw", {x}, {{"perm", topiary::Attribute::ofInts({0, 3, 1, 2})}});
  x = b.relu(b.conv(x, "conv1", 1, 4, 3, 2, 1), "relu1");
  x = b.flatten(b.globalAveragePool(x, "gap"), "flat");
  b.output(b.gemm(x, "fc", 4, 10), "logits", {10});
  auto g = b.finish();
  QVERIFY2(g, g.status().message().c_str());
  const QString file = QString::fromStdString(testutil::tempDir()) + "/nhwc.onnx";
  QVERIFY(topiary::saveModel(g.value(), file.toStdString()).isOk());
  auto m = LoadedModel::load(file);
  QVERIFY2(m, m.status().message().c_str());
  ValidationData data("fashion-mnist", 200);
  QString why;
  const topiary::Dataset* images = data.forGraph(*m.value()->graph, &why);
  QVERIFY2(images, qPrintable(why));
  auto ev = topiary::evaluate(*m.value()->graph, *images, 64, 1);
  QVERIFY2(ev, ev.status().message().c_str());
  QCOMPARE(ev->samples, int64_t(200));
  // The preview times it on one of those images, fitted like the rest (the
  // [1,1,28,28] image failed to run, and the latency read "-").
  auto latest = std::make_shared<std::atomic<quint64>>(1);
  PreviewWorker worker(latest);
  PreviewRequest req;
  req.generation = 1;
  req.model = m.value();
  req.plan = planFor("element", 0.5);
  req.threads = 1;
  const PreviewResult r = worker.compute(req);
  QVERIFY2(r.ok, qPrintable(r.error));
  QVERIFY(r.accuracyValid);
  QVERIFY2(r.latencyMs > 0, qPrintable(QString::number(r.latencyMs)));
  // A model of another size is still refused, with both shapes named.
  topiary::arch::GraphBuilder other("other", 5);
  std::string y = other.input("input_1", {32, 32, 1});
  y = other.node("Transpose", "to_nchw", {y}, {{"perm", topiary::Attribute::ofInts({0, 3, 1, 2})}});
  other.output(other.gemm(other.flatten(other.globalAveragePool(y, "gap"), "flat"), "fc", 1, 10), "logits", {10});
  auto o = other.finish();
  QVERIFY(o);
  QVERIFY(!data.forGraph(o.value(), &why));
  QVERIFY2(why.contains("[N,32,32,1]") || why.contains("32,32,1"), qPrintable(why));
}
