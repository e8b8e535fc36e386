// The layer table offers only granularities and criteria the engine accepts
// for each layer, and every one it offers previews without an error; a global
// default a layer cannot take is shown as the engine's fallback ("dense")
// and never breaks the preview. Checked on every bundled demo model (LeNet-5,
// LeNet-300-100, ResNet-8, MobileNet-tiny) with the worker run synchronously.
#include <QComboBox>
#include <QDir>
#include <QStandardItemModel>
#include <QtTest>

#include "GlobalControls.h"
#include "LayerTableModel.h"
#include "LoadedModel.h"
#include "ModelDocument.h"
#include "PreviewWorker.h"
#include "common/test_util.h"
#include "gui_util.h"
#include "topiary/quantize.h"

class TestLayerChoices : public QObject {
  Q_OBJECT
 private slots:
  void everyOfferedChoicePreviews_data();
  void everyOfferedChoicePreviews();
  void operatorRules();
  void globalDefaultFallsBackPerLayer();
  void bnScaleOnlyWhereABatchNormIs();
  void nmOverWholeKernels();
  void quantizedModelOffersItsLayers();

 private:
  static std::shared_ptr<const LoadedModel> load(const QString& file);
  // Synchronous preview of `plan` (no latency: only whether it computes).
  static PreviewResult preview(const std::shared_ptr<const LoadedModel>& m, const PrunePlan& plan);
};

std::shared_ptr<const LoadedModel> TestLayerChoices::load(const QString& file) {
  const QString path = QString::fromStdString(testutil::sourcePath("resources/models/" + file.toStdString()));
  if (!QFileInfo::exists(path)) return nullptr;
  auto m = LoadedModel::load(path);
  return m ? m.value() : nullptr;
}

PreviewResult TestLayerChoices::preview(const std::shared_ptr<const LoadedModel>& m, const PrunePlan& plan) {
  static auto latest = std::make_shared<std::atomic<quint64>>(1);
  static PreviewWorker worker(latest);
  worker.setData("fashion-mnist", 64);  // only whether the plan computes matters here
  PreviewRequest req;
  req.generation = 1;
  req.model = m;
  req.plan = plan;
  req.threads = 1;
  req.measureLatency = false;
  return worker.compute(req);
}

void TestLayerChoices::everyOfferedChoicePreviews_data() {
  QTest::addColumn<QString>("file");
  for (const char* f : {"lenet5.onnx", "lenet-300-100.onnx", "resnet8.onnx", "mobilenet-tiny.onnx"})
    QTest::newRow(f) << QString(f);
}

void TestLayerChoices::everyOfferedChoicePreviews() {
  QFETCH(QString, file);
  auto m = load(file);
  if (!m) QSKIP("demo model not bundled");
  ModelDocument doc;
  doc.setModel(m);
  LayerTableModel table(&doc);
  int tried = 0;
  for (int row = 0; row < table.rowCount(); ++row) {
    const QStringList choices = table.granularityChoices(row);
    QVERIFY2(choices.contains("element"), qPrintable(table.layerAt(row)));
    for (const QString& g : choices) {
      doc.applyPlan(PrunePlan());
      QVERIFY2(table.setData(table.index(row, LayerTableModel::Granularity), g),
               qPrintable(table.layerAt(row) + " " + g));
      QVERIFY(table.setData(table.index(row, LayerTableModel::Sparsity), 0.5));
      // l1 and, where offered, bn_scale (the criterion a layer may not take;
      // l2, taylor and random apply to every granularity alike).
      for (const QString& c : table.criterionChoices(row)) {
        if (c != "l1" && c != "bn_scale") continue;
        QVERIFY(table.setData(table.index(row, LayerTableModel::Criterion), c));
        const PreviewResult r = preview(m, doc.plan());
        QVERIFY2(r.ok, qPrintable(QString("%1 %2 %3: %4").arg(table.layerAt(row), g, c, r.error)));
        if (g != "layer") QVERIFY2(r.layerSparsity.value(table.layerAt(row)) > 0.2, qPrintable(table.layerAt(row) + " " + g + " " + c));
        ++tried;
      }
    }
  }
  qInfo("%s: %d layer/granularity/criterion choices previewed", qPrintable(file), tried);
  QVERIFY(tried > table.rowCount());
}

void TestLayerChoices::operatorRules() {
  auto lenet = load("lenet5.onnx");
  auto mobile = load("mobilenet-tiny.onnx");
  if (!lenet || !mobile) QSKIP("demo models not bundled");
  for (const LayerInfo& li : lenet->layers) {
    const QStringList& g = li.caps.granularities;
    if (li.op == "Gemm" || li.op == "MatMul") {
      QVERIFY2(!g.contains("kernel") && !g.contains("filter") && !g.contains("channel"), qPrintable(li.name));
    } else {
      QVERIFY2(g.contains("kernel") && g.contains("filter") && !g.contains("neuron"), qPrintable(li.name));
    }
  }
  // The logits layer keeps its outputs (the graph output's width is fixed).
  const LayerInfo& logits = lenet->layers.back();
  QVERIFY(!logits.caps.granularities.contains("neuron"));
  QVERIFY(logits.caps.granularities.contains("element"));
  // The first Conv reads the image: no input channels to remove.
  QVERIFY(!lenet->layers.front().caps.granularities.contains("channel"));
  int pointwise = 0, depthwise = 0;
  for (const LayerInfo& li : mobile->layers) {
    if (li.op != "Conv") continue;
    const qint64 kernel = li.weightShape[2] * li.weightShape[3];
    QCOMPARE(li.caps.granularities.contains("kernel"), kernel > 1);
    pointwise += kernel == 1;
    // A depthwise 3x3 reduces over 9 weights: groups of 4 and of 8 fit (the
    // last one shorter); it has no filters of its own to prune (its
    // channels belong to the group of the Conv before it).
    const bool isDepthwise = mobile->graph->nodes[size_t(li.nodeIndex)].attrInt("group", 1) > 1;
    if (isDepthwise && kernel == 9) {
      ++depthwise;
      QCOMPARE(li.caps.nmPatterns, QStringList({"2:4", "1:4", "4:8"}));
      QVERIFY2(!li.caps.granularities.contains("filter"), qPrintable(li.name));
    }
  }
  QVERIFY(pointwise > 0);
  QVERIFY(depthwise > 0);
  // A Gemm reducing over 3 features has no group of 4: no N:M at all.
  {
    topiary::Graph g;
    topiary::ValueInfo in;
    in.name = "x";
    in.hasShape = true;
    in.dims = {{1, ""}, {3, ""}};
    g.inputs.push_back(in);
    g.initializers["w"] = topiary::Tensor::fromVector<float>({5, 3}, std::vector<float>(15, 0.5f));
    topiary::Node n;
    n.name = "fc";
    n.opType = "Gemm";
    n.inputs = {"x", "w"};
    n.outputs = {"y"};
    n.attrs["transB"] = topiary::Attribute::ofInt(1);
    g.nodes.push_back(n);
    topiary::ValueInfo out;
    out.name = "y";
    g.outputs.push_back(out);
    auto tiny = LoadedModel::fromGraph(g, "tiny.onnx");
    QCOMPARE(tiny->layers.size(), 1);
    const LayerCapabilities& caps = tiny->layers[0].caps;
    QVERIFY(caps.nmPatterns.isEmpty());
    QVERIFY(!caps.granularities.contains("nm"));
    QVERIFY(caps.granularities.contains("element"));
    QVERIFY2(caps.unavailable.join('\n').contains("fewer than one group of 4"), qPrintable(caps.unavailable.join('\n')));
  }
  // The table's editor lists the patterns, not "nm".
  ModelDocument doc;
  doc.setModel(lenet);
  LayerTableModel table(&doc);
  const QStringList fc = table.granularityChoices(table.rowOf(lenet->layers.back().name));
  QVERIFY(!fc.contains("nm") && fc.contains("2:4") && !fc.contains("kernel"));
  // Rejected through the model as well as absent from the editor.
  const int fcRow = table.rowOf(lenet->layers.back().name);
  QVERIFY(!table.setData(table.index(fcRow, LayerTableModel::Granularity), "kernel"));
  QVERIFY(!table.setData(table.index(fcRow, LayerTableModel::Granularity), "neuron"));
  QVERIFY(!doc.plan().hasOwnPlan(lenet->layers.back().name));
}

void TestLayerChoices::globalDefaultFallsBackPerLayer() {
  auto m = load("lenet5.onnx");
  if (!m) QSKIP("demo model not bundled");
  ModelDocument doc;
  doc.setModel(m);
  LayerTableModel table(&doc);
  GlobalControls controls(&doc);
  // "layer" cannot be a default (the recipe refuses it): not offered.
  QCOMPARE(controls.granularity()->findText("layer"), -1);
  controls.granularity()->setCurrentText("kernel");
  QCOMPARE(doc.plan().global().granularity, QString("kernel"));
  doc.editAllSparsity(0.5);
  const PreviewResult r = preview(m, doc.plan());
  QVERIFY2(r.ok, qPrintable(r.error));
  int dense = 0;
  for (int row = 0; row < table.rowCount(); ++row) {
    const LayerInfo& li = m->layers[row];
    const QString shown = table.data(table.index(row, LayerTableModel::Granularity)).toString();
    if (li.op == "Conv") {
      QCOMPARE(shown, QString("kernel"));
      QVERIFY(r.layerSparsity.value(li.name) > 0.4);
    } else {
      ++dense;
      QCOMPARE(shown, QString("dense"));
      QVERIFY(table.data(table.index(row, LayerTableModel::Granularity), Qt::ToolTipRole).toString().contains("kernel"));
      QCOMPARE(r.layerSparsity.value(li.name), 0.0);
      // The preview names the layer it left dense.
      QVERIFY2(r.notes.join('\n').contains(li.name), qPrintable(r.notes.join('\n')));
    }
  }
  QVERIFY(dense > 0);
  // Giving such a layer its own sparsity picks a granularity it can take.
  const int fc = table.rowOf(m->layers.back().name) - 1;  // a hidden Gemm layer
  QVERIFY(table.setData(table.index(fc, LayerTableModel::Sparsity), 0.6));
  QCOMPARE(doc.plan().layerPlan(table.layerAt(fc)).granularity, QString("element"));
  const PreviewResult r2 = preview(m, doc.plan());
  QVERIFY2(r2.ok, qPrintable(r2.error));
  QVERIFY(qAbs(r2.layerSparsity.value(table.layerAt(fc)) - 0.6) < 0.01);
  // Filter as the default: neurons on the hidden Gemms, the logits dense.
  controls.granularity()->setCurrentText("filter");
  QCOMPARE(table.data(table.index(fc + 1, LayerTableModel::Granularity)).toString(), QString("dense"));
  QVERIFY(preview(m, doc.plan()).ok);
}

void TestLayerChoices::bnScaleOnlyWhereABatchNormIs() {
  auto lenet = load("lenet5.onnx");
  auto resnet = load("resnet8.onnx");
  if (!lenet || !resnet) QSKIP("demo models not bundled");
  auto bnEnabled = [](GlobalControls& c) {
    auto* items = qobject_cast<QStandardItemModel*>(c.criterion()->model());
    return items->item(c.criterion()->findText("bn_scale"))->isEnabled();
  };
  {
    ModelDocument doc;
    doc.setModel(lenet);
    GlobalControls controls(&doc);
    LayerTableModel table(&doc);
    QVERIFY(!lenet->layers.front().caps.bnScaleFilter);  // LeNet-5 has no BatchNormalization
    QVERIFY(!bnEnabled(controls));
    QVERIFY(!table.criterionChoices(0).contains("bn_scale"));
    controls.criterion()->setCurrentText("bn_scale");  // as if forced: falls back, the preview stays valid
    QCOMPARE(doc.plan().global().criterion, QString("l1"));
  }
  ModelDocument doc;
  doc.setModel(resnet);
  GlobalControls controls(&doc);
  LayerTableModel table(&doc);
  QCOMPARE(doc.plan().global().granularity, QString("filter"));
  QVERIFY(bnEnabled(controls));
  controls.criterion()->setCurrentText("bn_scale");
  QCOMPARE(doc.plan().global().criterion, QString("bn_scale"));
  doc.editAllSparsity(0.3);
  const PreviewResult r = preview(resnet, doc.plan());
  QVERIFY2(r.ok, qPrintable(r.error));
  QVERIFY(r.nonzeroParams < qint64(resnet->graph->nonzeroParamCount()));
  // Element granularity cannot rank by BN scales: the criterion goes back to l1.
  controls.granularity()->setCurrentText("element");
  QVERIFY(!bnEnabled(controls));
  QCOMPARE(doc.plan().global().criterion, QString("l1"));
  QVERIFY(preview(resnet, doc.plan()).ok);
}

// "2:4 kernels" (2 whole kernels kept of every 4 input channels): offered on
// Convs with a kernel over 1x1 and at least 4 input channels, written to the
// recipe as nm_pattern "kernel", read back, and previewed with exactly that
// pattern (every group of 4 kernels of a filter keeps 2 whole kernels).
void TestLayerChoices::nmOverWholeKernels() {
  auto m = load("resnet8.onnx");
  if (!m) QSKIP("demo model not bundled");
  ModelDocument doc;
  doc.setModel(m);
  LayerTableModel table(&doc);
  int offered = 0;
  QString conv;
  for (int row = 0; row < table.rowCount(); ++row) {
    const LayerInfo& li = m->layers[row];
    const bool fits = li.op == "Conv" && li.weightShape.size() == 4 && li.weightShape[1] >= 4 &&
                      li.weightShape[2] * li.weightShape[3] > 1;
    QCOMPARE(table.granularityChoices(row).contains(kNmKernelPattern), fits);
    if (fits && conv.isEmpty()) conv = li.name;
    offered += fits;
  }
  QVERIFY(offered >= 4);  // the 3x3 convolutions after the stem
  const int row = table.rowOf(conv);
  QVERIFY(table.setData(table.index(row, LayerTableModel::Granularity), kNmKernelPattern));
  QCOMPARE(table.data(table.index(row, LayerTableModel::Granularity)).toString(), kNmKernelPattern);
  const LayerPlan lp = doc.plan().layerPlan(conv);
  QVERIFY(lp.granularity == "nm" && lp.nmKernels && lp.n == 2 && lp.m == 4);
  const QJsonObject recipe = doc.plan().toRecipe();
  QCOMPARE(recipe["layers"].toObject()[conv].toObject()["nm_pattern"].toString(), QString("kernel"));
  PrunePlan back;
  QString error;
  QVERIFY2(PrunePlan::fromRecipe(recipe, back, &error), qPrintable(error));
  QVERIFY(back == doc.plan());
  // Per tap again: the key is dropped, and the plans differ.
  QVERIFY(table.setData(table.index(row, LayerTableModel::Granularity), "2:4"));
  QVERIFY(!doc.plan().layerPlan(conv).nmKernels);
  QVERIFY(!doc.plan().toRecipe()["layers"].toObject()[conv].toObject().contains("nm_pattern"));
  QVERIFY(!(back == doc.plan()));
  // The preview prunes whole kernels: each filter keeps 2 of every 4.
  const PreviewResult r = preview(m, back);
  QVERIFY2(r.ok, qPrintable(r.error));
  QVERIFY(qAbs(r.layerSparsity.value(conv) - 0.5) < 0.01);
  const LayerInfo& li = m->layers[row];
  QVERIFY(r.masks && r.masks->count(li.weight.toStdString()));
  const topiary::Tensor& mask = r.masks->at(li.weight.toStdString());
  const qint64 cout = li.weightShape[0], cin = li.weightShape[1], k = li.weightShape[2] * li.weightShape[3];
  QCOMPARE(qint64(mask.numel()), cout * cin * k);
  for (qint64 o = 0; o < cout; ++o)
    for (qint64 g = 0; g + 4 <= cin; g += 4) {
      int kept = 0;
      for (qint64 c = g; c < g + 4; ++c) {
        int ones = 0;
        for (qint64 t = 0; t < k; ++t) ones += mask.f()[(o * cin + c) * k + t] != 0.f;
        QVERIFY2(ones == 0 || ones == k, "a kernel is kept or pruned whole");
        kept += ones == k;
      }
      QCOMPARE(kept, 2);
    }
}

// A quantized model (int8 weights read through DequantizeLinear) lists the
// same prunable layers as its float original, with their parameter counts,
// says why in a warning, and previews a plan (it listed no layer at all).
void TestLayerChoices::quantizedModelOffersItsLayers() {
  auto f = load("lenet5.onnx");
  if (!f) QSKIP("demo model not bundled");
  auto q = topiary::exportQdq(*f->graph, {8, true});
  QVERIFY(q.isOk());
  auto m = LoadedModel::fromGraph(q.value(), "lenet5-q8.onnx");
  QCOMPARE(m->layers.size(), f->layers.size());
  for (int i = 0; i < m->layers.size(); ++i) {
    QCOMPARE(m->layers[i].name, f->layers[i].name);
    QCOMPARE(m->layers[i].params, f->layers[i].params);
  }
  QVERIFY2(m->warnings.join("\n").contains("5 weights are stored as integers"), qPrintable(m->warnings.join("\n")));
  PrunePlan plan;
  GlobalPlan global;
  global.granularity = "element";
  global.sparsity = 0.5;
  plan.setGlobal(global);
  const PreviewResult r = preview(m, plan);
  QVERIFY2(r.ok, qPrintable(r.error));
  QVERIFY(qAbs(r.layerSparsity.value(m->layers[0].name) - 0.5) < 0.01);
}

QTEST_MAIN(TestLayerChoices)
#include "test_layer_choices.moc"
