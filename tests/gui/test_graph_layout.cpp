// Layered DAG layout and the graph scene on a generated 500-node graph:
// layering respects edges, sweeps reduce crossings, the layout is fast.
#include <QApplication>
#include <QElapsedTimer>
#include <QFontMetricsF>
#include <QScrollBar>
#include <QtTest>

#include "GraphLayout.h"
#include "GraphNodeItem.h"
#include "GraphScene.h"
#include "GraphView.h"
#include "gui_util.h"

class TestGraphLayout : public QObject {
  Q_OBJECT
 private slots:
  void chainIsVertical();
  void diamondIsSymmetric();
  void sweepsReduceCrossings();
  void fiveHundredNodes();
  void smallGraphFitsWhole();
  void findAndSelect();
  void scopedNamesStayApart();
};

void TestGraphLayout::chainIsVertical() {
  GraphLayout l;
  auto r = l.layout(4, {{0, 1}, {1, 2}, {2, 3}});
  QCOMPARE(r.layers, 4);
  for (int i = 1; i < 4; ++i) {
    QCOMPARE(r.centers[i].x(), r.centers[0].x());
    QVERIFY(r.centers[i].y() > r.centers[i - 1].y());
  }
}

void TestGraphLayout::diamondIsSymmetric() {
  // 0 -> {1, 2} -> 3, plus a long edge 0 -> 3 routed through a dummy.
  GraphLayout l;
  auto r = l.layout(4, {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {0, 3}});
  QCOMPARE(r.layers, 3);
  QCOMPARE(r.layerOf[3], 2);
  QVERIFY(r.centers[1].x() != r.centers[2].x());
  QCOMPARE(r.routes[4].size(), 3);  // source, dummy, target
  QCOMPARE(r.crossings, 0);
}

void TestGraphLayout::sweepsReduceCrossings() {
  topiary::Graph g = guitest::syntheticGraph(300, 3);
  QVector<GraphLayout::Edge> edges;
  std::map<std::string, int> producer{{"input", 0}};
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const auto& in : g.nodes[i].inputs) edges.push_back({producer[in], int(i) + 1});
    producer[g.nodes[i].outputs[0]] = int(i) + 1;
  }
  GraphLayout none;
  none.setSweeps(0);
  GraphLayout swept;
  auto a = none.layout(int(g.nodes.size()) + 1, edges);
  auto b = swept.layout(int(g.nodes.size()) + 1, edges);
  qInfo("crossings: %d without ordering, %d with barycentric sweeps", a.crossings, b.crossings);
  QVERIFY(b.crossings < a.crossings);
  for (const auto& e : edges) QVERIFY(b.layerOf[e.to] > b.layerOf[e.from]);
}

void TestGraphLayout::fiveHundredNodes() {
  topiary::Graph g = guitest::syntheticGraph(500);
  GraphScene scene;
  QElapsedTimer t;
  t.start();
  scene.setGraph(g, {});
  const double total = t.nsecsElapsed() / 1e6;
  qInfo("500 nodes: layout %.1f ms, scene build %.1f ms (%d edges, %d crossings)", scene.lastLayoutMs(),
        scene.lastBuildMs(), scene.edgeCount(), scene.crossings());
  QCOMPARE(scene.nodeCount(), 502);  // + input + output
  QVERIFY(scene.edgeCount() >= 500);
  // Generous bound for 2 busy cores; typical is a few tens of ms.
  QVERIFY2(total < 2000, qPrintable(QString("scene build took %1 ms").arg(total)));
  // Fit keeps titles legible: too big to fit whole, so it shows the input at
  // a readable zoom instead of shrinking 500 nodes to dots.
  GraphView view;
  view.setScene(&scene);
  view.resize(1200, 900);
  view.show();
  view.fitAll();
  QVERIFY2(view.zoom() >= GraphView::kReadableZoom, qPrintable(QString::number(view.zoom())));
  const QPoint input = view.mapFromScene(scene.node("input")->scenePos());
  QVERIFY(view.viewport()->rect().contains(input));
  // Smooth: one frame of the view (what a scroll or zoom step repaints) and
  // the whole graph once.
  QImage frame(1200, 900, QImage::Format_RGB32);
  QPainter fp(&frame);
  t.restart();
  view.render(&fp);
  const double frameMs = t.nsecsElapsed() / 1e6;
  view.zoomBy(0.5);
  t.restart();
  view.render(&fp);
  const double zoomedOutMs = t.nsecsElapsed() / 1e6;
  QImage img(1200, 900, QImage::Format_RGB32);
  QPainter p(&img);
  t.restart();
  scene.render(&p);
  qInfo("500 nodes: view frame %.1f ms, zoomed-out frame %.1f ms, whole-scene render %.1f ms", frameMs, zoomedOutMs,
        t.nsecsElapsed() / 1e6);
  QVERIFY2(frameMs < 500 && zoomedOutMs < 500, qPrintable(QString("%1 / %2 ms").arg(frameMs).arg(zoomedOutMs)));
  // What a drag-scroll repaints on screen: the viewport, with the items'
  // device-coordinate caches warm (render() above draws without them).
  view.zoomBy(2.0);
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.viewport()->repaint();  // fills the caches
  QVector<double> scrollMs;
  for (int i = 0; i < 12; ++i) {
    view.verticalScrollBar()->setValue(view.verticalScrollBar()->value() + 60);
    t.restart();
    view.viewport()->repaint();
    scrollMs.push_back(t.nsecsElapsed() / 1e6);
  }
  std::sort(scrollMs.begin(), scrollMs.end());
  qInfo("500 nodes: scroll repaint median %.1f ms, max %.1f ms over 12 steps", scrollMs[6], scrollMs.back());
  QVERIFY(view.verticalScrollBar()->value() > 0);  // it really scrolled
}

void TestGraphLayout::smallGraphFitsWhole() {
  topiary::Graph g = guitest::syntheticGraph(6);
  GraphScene scene;
  scene.setGraph(g, {});
  GraphView view;
  view.setScene(&scene);
  view.resize(900, 900);
  view.show();
  view.fitAll();
  QVERIFY(view.zoom() >= GraphView::kReadableZoom && view.zoom() <= GraphView::kMaxFitZoom);
  for (const QString& n : scene.findNodes(""))
    QVERIFY2(view.viewport()->rect().contains(view.mapFromScene(scene.node(n)->scenePos())), qPrintable(n));
}

void TestGraphLayout::findAndSelect() {
  topiary::Graph g = guitest::syntheticGraph(50);
  GraphScene scene;
  scene.setGraph(g, {"n7"});
  QStringList hits = scene.findNodes("n4");
  QCOMPARE(hits.first(), QString("n4"));
  QVERIFY(hits.contains("n42"));
  QSignalSpy spy(&scene, &GraphScene::nodeSelected);
  scene.selectNode("n7");
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.takeFirst().at(0).toString(), QString("n7"));
  QCOMPARE(scene.selectedNode(), QString("n7"));
  QVERIFY(scene.node("n7")->prunable());
  scene.setHighlighted({"n1", "n2", "missing"});
  QCOMPARE(scene.highlighted(), (QSet<QString>{"n1", "n2"}));
}

// tf2onnx names layers by scope: model/conv2d/BiasAdd and
// model/conv2d_1/BiasAdd both read "model/conv...asAdd" once cut in the
// middle to a node's width. Their lines differ, keep the sparsity whole and
// still fit the node.
void TestGraphLayout::scopedNamesStayApart() {
  QFont font = QApplication::font();
  font.setPointSizeF(7.5);
  const QStringList names = {"model/conv2d/BiasAdd", "model/conv2d_1/BiasAdd", "model/conv2d_2/BiasAdd",
                             "model/separable_conv2d_13/separable_conv2d",
                             "model/separable_conv2d_14/separable_conv2d"};
  for (double sparsity : {0.0, 0.75}) {
    QSet<QString> lines;
    for (const QString& name : names) {
      GraphNodeItem item(name, "Conv", GraphNodeItem::Kind::Operator);
      item.setPrunable(true);
      item.setSparsity(sparsity);
      const QString line = item.secondLine(font);
      QVERIFY2(QFontMetricsF(font).horizontalAdvance(line) <= GraphNodeItem::kWidth - 18 + 0.5, qPrintable(line));
      if (sparsity > 0) QVERIFY2(line.endsWith("  75%"), qPrintable(line));
      lines.insert(line);
    }
    QCOMPARE(lines.size(), names.size());
  }
  // A plain long name still keeps both ends.
  GraphNodeItem plain("a_rather_long_layer_name_that_cannot_fit_17", "Conv", GraphNodeItem::Kind::Operator);
  const QString line = plain.secondLine(font);
  QVERIFY2(line.startsWith("a_") && line.endsWith("_17"), qPrintable(line));
}

QTEST_MAIN(TestGraphLayout)
#include "test_graph_layout.moc"
