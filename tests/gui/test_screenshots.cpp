// Renders the workbench offscreen and writes PNGs of the main window, the
// graph, the heatmaps, the preview chart and the jobs panel to $TOPIARY_SCREENSHOT_DIR
// (default: <build>/screenshots), for the README and for looking at.
#include <QDir>
#include <QtTest>
#include <random>

#include <QComboBox>
#include <QDockWidget>

#include "GraphNodeItem.h"
#include "GraphScene.h"
#include "GraphView.h"
#include "JobPanel.h"
#include "ParetoChart.h"
#include "HeatmapPanel.h"
#include "HeatmapView.h"
#include "LoadedModel.h"
#include "LayerTableModel.h"
#include "MainWindow.h"
#include "ModelDocument.h"
#include "PreviewController.h"
#include "PreviewPanel.h"
#include "gui_util.h"
#include "topiary/onnx_io.h"

namespace {

// Distinct colours in a downscaled copy: an empty panel has one or two.
int colourCount(const QImage& img) {
  QImage small = img.scaled(160, 120).convertToFormat(QImage::Format_RGB32);
  QSet<QRgb> seen;
  for (int y = 0; y < small.height(); ++y)
    for (int x = 0; x < small.width(); ++x) seen.insert(small.pixel(x, y));
  return seen.size();
}

}  // namespace

class TestScreenshots : public QObject {
  Q_OBJECT
 private slots:
  void writeScreenshots();
  // ResNet-8: selecting the second conv of a residual block highlights its
  // residual partner (the other producer of the Add), the Add and the
  // BatchNorms, so a student sees why they are pruned together; PNG of it.
  void residualGroup();
  // A Keras CNN as tf2onnx writes it (NHWC input behind a Transpose, Clip as
  // ReLU6, a Flatten through Transpose + Reshape, MatMul + Add): the graph
  // with its Transpose nodes, PNG of the whole window and of the graph.
  void channelsLastModel();
};

// The offscreen screen is small; show and lay the window out as on a 1600x1000 desktop.
static void showAsOnDesktop(MainWindow& w) {
  w.resize(1600, 1000);
  w.show();
  w.applyDefaultLayout(QSize(1600, 1000));
}

void TestScreenshots::writeScreenshots() {
  guitest::isolateSettings();
  const QString dir = guitest::screenshotDir();
  MainWindow w;
  showAsOnDesktop(w);
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  w.openModel(guitest::demoModelPath());
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  ModelDocument* doc = w.document();
  // A short fine-tune so the jobs panel has curves to show.
  {
    QSignalSpy done(w.jobPanel(), &JobPanel::jobFinished);
    topiary::TrainOptions o;
    o.epochs = 2;
    o.maxBatchesPerEpoch = 12;
    o.lr = 0.01f;
    w.jobPanel()->startFineTune(o, 2000);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 50000);
    QVERIFY2(w.jobPanel()->lastOutcome().ok, qPrintable(w.jobPanel()->lastOutcome().message));
    QVERIFY(w.jobPanel()->curvePoints() >= 2);
    QTRY_VERIFY_WITH_TIMEOUT(doc->hasPreview() && !doc->preview().estimate && doc->preview().plan == doc->plan() &&
                                 !w.previewController()->busy(), 60000);
  }
  // A few configurations so the chart has points and a front.
  const double sparsities[] = {0.2, 0.4, 0.6, 0.75, 0.9, 0.5};
  for (double s : sparsities) {
    QSignalSpy ready(w.previewController(), &PreviewController::resultReady);
    doc->editAllSparsity(s);
    QTRY_VERIFY_WITH_TIMEOUT(doc->hasPreview() && !doc->preview().estimate && doc->preview().plan == doc->plan(), 60000);
  }
  LayerTableModel* tm = w.layerModel();
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Granularity), "element"));
  QVERIFY(tm->setData(tm->index(1, LayerTableModel::Sparsity), 0.7));
  QTRY_VERIFY_WITH_TIMEOUT(doc->hasPreview() && !doc->preview().estimate && doc->preview().plan == doc->plan(), 60000);
  // Every row's label says what its counts and the graph say. fc3 (the
  // logits) is left dense by the filter default, yet loses the input columns
  // of fc2's pruned neurons: its row once read "dense —" beside 430 of 850
  // nonzero while the graph said 50%.
  QTRY_VERIFY_WITH_TIMEOUT(doc->hasPreview() && !doc->preview().estimate && doc->preview().plan == doc->plan() &&
                               !w.previewController()->busy(), 60000);
  int coupledRows = 0;
  for (int row = 0; row < tm->rowCount(); ++row) {
    const LayerInfo& li = doc->model()->layers[row];
    const qint64 weights = topiary::numelOf(li.weightShape);
    const qint64 nonzeroWeights = tm->index(row, LayerTableModel::Nonzeros).data(Qt::EditRole).toLongLong() -
                                  (li.params - weights);
    const int fromCounts = qRound(100.0 * double(weights - nonzeroWeights) / double(weights));
    const QString label = tm->index(row, LayerTableModel::Sparsity).data().toString();
    const QString granularity = tm->index(row, LayerTableModel::Granularity).data().toString();
    // The label ends with the measured percentage ("50%", "50→75%"), or is "—" for an untouched dense layer.
    const int shown = label == QStringLiteral("\u2014") ? 0 : label.section(QChar(0x2192), -1).chopped(1).toInt();
    GraphNodeItem* node = w.graphScene()->node(li.name);
    QVERIFY2(node, qPrintable(li.name));
    const int graphPct = qRound(node->sparsity() * 100);
    const QString what = QString("%1: table %2 %3, graph %4%, counts %5 of %6 weights nonzero")
                             .arg(li.name, granularity, label)
                             .arg(graphPct)
                             .arg(nonzeroWeights)
                             .arg(weights);
    QVERIFY2(shown == fromCounts && graphPct == fromCounts, qPrintable(what));
    QVERIFY2(granularity != "dense" || nonzeroWeights == weights, qPrintable(what));
    if (granularity == "coupled") ++coupledRows;
    if (li.name == "fc3") qInfo("%s", qPrintable(what));
  }
  QCOMPARE(coupledRows, 1);  // fc3
  w.selectLayer(tm->layerAt(1));
  w.findChild<QDockWidget*>("WeightsDock")->raise();
  w.graphView()->fitAll();
  QTest::qWait(50);  // let queued layout/paint events run before grabbing
  // What a person sees: a 1600x1000 window whose graph is legible and whose
  // chart holds every configuration tried.
  QCOMPARE(w.size(), QSize(1600, 1000));
  QVERIFY2(w.graphView()->zoom() >= GraphView::kReadableZoom, qPrintable(QString::number(w.graphView()->zoom())));
  QVERIFY(w.graphView()->width() >= 500 && w.graphView()->height() >= 800);
  QCOMPARE(w.previewPanel()->sizeChart()->pointCount(), doc->tried().size());
  // The graph toolbar fits: find box and group box are shown, not folded into its overflow menu.
  bool groupBoxShown = false;
  for (QComboBox* c : w.findChildren<QComboBox*>())
    if (c->toolTip().startsWith("Dependency groups")) groupBoxShown = c->isVisible();
  QVERIFY(groupBoxShown);
  QVERIFY(doc->tried().size() >= 6);

  struct Shot {
    const char* name;
    QWidget* widget;
  };
  const Shot shots[] = {{"main-window.png", &w},
                         {"graph.png", w.graphView()},
                         {"heatmaps.png", w.heatmaps()},
                         {"preview.png", w.previewPanel()},
                         {"jobs.png", w.jobPanel()}};
  for (const Shot& s : shots) {
    if (s.widget == w.jobPanel()) {
      w.findChild<QDockWidget*>("JobsDock")->raise();
      QTest::qWait(50);
    }
    QImage img = s.widget->grab().toImage();
    const QString path = dir + "/" + s.name;
    QVERIFY2(img.save(path), qPrintable(path));
    qInfo("%s: %dx%d, %d colours", qPrintable(path), img.width(), img.height(), colourCount(img));
    QVERIFY(img.width() > 100 && img.height() > 100);
    QVERIFY2(colourCount(img) > 8, s.name);
  }
  // The heatmap image itself, at full resolution.
  const QString hm = dir + "/heatmap-image.png";
  QVERIFY(w.heatmaps()->view()->grab().toImage().save(hm));
}

void TestScreenshots::residualGroup() {
  guitest::isolateSettings();
  const QString model = QStringLiteral(TOPIARY_SOURCE_DIR) + "/resources/models/resnet8.onnx";
  if (!QFileInfo::exists(model)) QSKIP("resnet8.onnx not bundled");
  const QString dir = guitest::screenshotDir();
  MainWindow w;
  showAsOnDesktop(w);
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  w.openModel(model);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  const LoadedModel& m = *w.document()->model();
  const topiary::DependencyGroup* residual = nullptr;
  for (const auto& g : m.groups)
    if (!residual && !g.locked && g.producers.size() >= 2) residual = &g;  // the first residual block
  QVERIFY2(residual, "no residual group (two producers) in resnet8");
  const QString second = QString::fromStdString(residual->producers.back());
  w.selectLayer(second);
  const QSet<QString> lit = w.graphScene()->highlighted();
  QStringList ops;
  for (const auto& n : m.graph->nodes)
    if (lit.contains(QString::fromStdString(n.label()))) ops << QString::fromStdString(n.opType);
  for (const auto& p : residual->producers) QVERIFY2(lit.contains(QString::fromStdString(p)), p.c_str());
  QVERIFY2(ops.contains("Add"), qPrintable(ops.join(",")));
  QVERIFY2(ops.contains("BatchNormalization"), qPrintable(ops.join(",")));
  QVERIFY(ops.count("Conv") >= 3);  // both producers and the next block's convs
  for (const auto& c : residual->consumers) QVERIFY2(lit.contains(QString::fromStdString(c)), c.c_str());
  w.graphView()->centerOnNode(second);
  QTest::qWait(50);  // queued paint events before grabbing
  const QString path = dir + "/graph-residual-group.png";
  QVERIFY(w.graphView()->grab().toImage().save(path));
  qInfo("%s: %d nodes highlighted (%s)", qPrintable(path), int(lit.size()), qPrintable(ops.join(" ")));
}

namespace {

// The Keras model of engine_exporter_styles (Flatten variant), random weights.
topiary::Graph kerasCnn() {
  using namespace topiary;
  Graph g;
  g.opsetImports = {{"", 13}};
  g.producerName = "tf2onnx";
  std::mt19937 rng(7);
  auto weight = [&](const std::string& name, Shape shape, float scale) {
    Tensor t(DType::Float, shape);
    std::normal_distribution<float> d(0.f, scale);
    for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = d(rng);
    g.initializers[name] = t;
    return name;
  };
  auto node = [&](const std::string& op, const std::string& name, std::vector<std::string> inputs,
                  std::map<std::string, Attribute> attrs = {}) {
    Node n;
    n.opType = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {name + ":0"};
    n.attrs = std::move(attrs);
    g.nodes.push_back(n);
    return n.outputs[0];
  };
  ValueInfo in;
  in.name = "input_1";
  in.hasShape = true;
  in.dims = {Dim{-1, "unk__0"}, Dim{28, ""}, Dim{28, ""}, Dim{1, ""}};
  g.inputs = {in};
  const std::map<std::string, Attribute> same{{"auto_pad", Attribute::ofString("SAME_UPPER")},
                                              {"kernel_shape", Attribute::ofInts({3, 3})}};
  auto strided = same;
  strided["strides"] = Attribute::ofInts({2, 2});
  std::string x = node("Transpose", "model/conv2d/Conv2D__6", {"input_1"}, {{"perm", Attribute::ofInts({0, 3, 1, 2})}});
  x = node("Conv", "model/conv2d/BiasAdd",
           {x, weight("model/conv2d/Conv2D/ReadVariableOp:0", {8, 1, 3, 3}, 0.4f),
            weight("model/conv2d/BiasAdd/ReadVariableOp:0", {8}, 0.1f)},
           same);
  x = node("Relu", "model/conv2d/Relu", {x});
  x = node("MaxPool", "model/max_pooling2d/MaxPool", {x},
           {{"kernel_shape", Attribute::ofInts({2, 2})}, {"strides", Attribute::ofInts({2, 2})}});
  x = node("Conv", "model/conv2d_1/BiasAdd",
           {x, weight("model/conv2d_1/Conv2D/ReadVariableOp:0", {16, 8, 3, 3}, 0.2f),
            weight("model/conv2d_1/BiasAdd/ReadVariableOp:0", {16}, 0.1f)},
           strided);
  g.initializers["zero:0"] = Tensor::scalar(0.f);
  g.initializers["six:0"] = Tensor::scalar(6.f);
  x = node("Clip", "model/conv2d_1/Relu6", {x, "zero:0", "six:0"});
  x = node("Transpose", "model/conv2d_1/Relu6__12", {x}, {{"perm", Attribute::ofInts({0, 2, 3, 1})}});
  g.initializers["const_fold_opt__20"] = Tensor::fromVector<int64_t>({2}, {-1, 7 * 7 * 16});
  x = node("Reshape", "model/flatten/Reshape", {x, "const_fold_opt__20"});
  x = node("MatMul", "model/dense/MatMul", {x, weight("model/dense/MatMul/ReadVariableOp:0", {7 * 7 * 16, 32}, 0.1f)});
  x = node("Add", "model/dense/BiasAdd", {x, weight("model/dense/BiasAdd/ReadVariableOp:0", {32}, 0.1f)});
  x = node("Relu", "model/dense/Relu", {x});
  x = node("MatMul", "model/dense_1/MatMul", {x, weight("model/dense_1/MatMul/ReadVariableOp:0", {32, 10}, 0.3f)});
  x = node("Add", "model/dense_1/BiasAdd", {x, weight("model/dense_1/BiasAdd/ReadVariableOp:0", {10}, 0.1f)});
  x = node("Softmax", "model/dense_1/Softmax", {x}, {{"axis", Attribute::ofInt(-1)}});
  ValueInfo out;
  out.name = x;
  g.outputs = {out};
  return g;
}

}  // namespace

void TestScreenshots::channelsLastModel() {
  guitest::isolateSettings();
  const QString dir = guitest::screenshotDir();
  const QString model = QDir(dir).filePath("keras-cnn.onnx");
  QVERIFY(topiary::saveModel(kerasCnn(), model.toStdString()).isOk());
  MainWindow w;
  showAsOnDesktop(w);
  QSignalSpy opened(&w, &MainWindow::modelOpened);
  w.openModel(model);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
  ModelDocument* doc = w.document();
  doc->editAllSparsity(0.5);
  QTRY_VERIFY_WITH_TIMEOUT(doc->hasPreview() && !doc->preview().estimate && doc->preview().plan == doc->plan() &&
                               !w.previewController()->busy(),
                           60000);
  for (const char* name : {"model/conv2d/Conv2D__6", "model/conv2d_1/Relu6__12", "model/flatten/Reshape"})
    QVERIFY2(w.graphScene()->node(name), name);
  w.selectLayer("model/conv2d_1/BiasAdd");
  w.graphView()->fitAll();
  QTest::qWait(50);
  for (const auto& shot : {std::make_pair("keras-main-window.png", static_cast<QWidget*>(&w)),
                           std::make_pair("keras-graph.png", static_cast<QWidget*>(w.graphView()))}) {
    QImage img = shot.second->grab().toImage();
    const QString path = dir + "/" + shot.first;
    QVERIFY2(img.save(path), qPrintable(path));
    qInfo("%s: %dx%d, %d colours", qPrintable(path), img.width(), img.height(), colourCount(img));
    QVERIFY2(colourCount(img) > 8, shot.first);
  }
}

QTEST_MAIN(TestScreenshots)
#include "test_screenshots.moc"
