// Heatmap rendering: pixel lookup returns the right weight, zeros and pruned
// weights get their own colours, 512 filters render quickly into one image.
#include <QElapsedTimer>
#include <QtTest>

#include "FilterNormBars.h"
#include "HeatmapRenderer.h"
#include "PrunePlan.h"

class TestHeatmap : public QObject {
  Q_OBJECT
 private slots:
  void locateFindsEveryWeight();
  void zeroAndPrunedAreDistinct();
  void denseLayerColumns();
  void manyFilters();
  void normBarsSorted();
  void recipeRoundTrip();
};

static topiary::Tensor ramp(topiary::Shape s) {
  topiary::Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t.f()[i] = float(i + 1) / float(t.numel()) * (i % 2 ? -1.f : 1.f);
  return t;
}

void TestHeatmap::locateFindsEveryWeight() {
  topiary::Tensor w = ramp({4, 3, 3, 3});
  HeatmapRenderer r(w, nullptr, {});
  QCOMPARE(r.filterCount(), 4);
  QSet<int> found;
  for (int y = 0; y < r.image().height(); ++y)
    for (int x = 0; x < r.image().width(); ++x) {
      auto e = r.locate({x, y});
      if (!e.valid) continue;
      const int64_t idx = ((int64_t(e.filter) * 3 + e.channel) * 3 + e.row) * 3 + e.col;
      QCOMPARE(e.value, w.f()[idx]);
      found.insert(int(idx));
    }
  QCOMPARE(found.size(), int(w.numel()));
}

void TestHeatmap::zeroAndPrunedAreDistinct() {
  topiary::Tensor w = ramp({2, 1, 2, 2});
  w.f()[0] = 0.f;  // an exact zero that is not pruned
  topiary::Tensor mask({2, 1, 2, 2});
  mask.fill(1.f);
  for (int i = 4; i < 8; ++i) mask.f()[i] = 0.f;  // filter 1 fully pruned
  HeatmapRenderer r(w, &mask, {});
  QCOMPARE(r.prunedFilterCount(), 1);
  QPoint zeroPx, prunedPx, keptPx;
  for (int y = 0; y < r.image().height(); ++y)
    for (int x = 0; x < r.image().width(); ++x) {
      auto e = r.locate({x, y});
      if (!e.valid) continue;
      if (e.filter == 0 && e.row == 0 && e.col == 0) zeroPx = {x, y};
      if (e.filter == 0 && e.row == 1 && e.col == 1) keptPx = {x, y};
      if (e.filter == 1) {
        QVERIFY(e.pruned);
        prunedPx = {x, y};
      }
    }
  QCOMPARE(r.image().pixel(zeroPx), HeatmapRenderer::zeroColor());
  QVERIFY(r.image().pixel(keptPx) != HeatmapRenderer::zeroColor());
  const QColor pruned(r.image().pixel(prunedPx));
  QVERIFY(pruned.red() < 130 || pruned.green() < 130);  // dark hatch or the red cross
}

void TestHeatmap::denseLayerColumns() {
  // Gemm without transB stores [in, out]: neuron j is column j.
  topiary::Tensor w = ramp({6, 3});
  HeatmapRenderer::Options o;
  o.filtersAreColumns = true;
  HeatmapRenderer r(w, nullptr, o);
  QCOMPARE(r.filterCount(), 3);
  for (int y = 0; y < r.image().height(); ++y)
    for (int x = 0; x < r.image().width(); ++x) {
      auto e = r.locate({x, y});
      if (e.valid) QCOMPARE(e.value, w.f()[e.within * 3 + e.filter]);
    }
}

void TestHeatmap::manyFilters() {
  topiary::Tensor w = ramp({512, 64, 3, 3});
  topiary::Tensor mask({512, 64, 3, 3});
  mask.fill(1.f);
  for (int64_t i = 0; i < mask.numel(); i += 3) mask.f()[i] = 0.f;
  QElapsedTimer t;
  t.start();
  HeatmapRenderer r(w, &mask, {});
  const double ms = t.nsecsElapsed() / 1e6;
  qInfo("512x64x3x3 heatmap: %dx%d px in %.1f ms", r.image().width(), r.image().height(), ms);
  QCOMPARE(r.filterCount(), 512);
  QVERIFY(r.image().width() <= 2400 && r.image().height() <= 2400);
  QVERIFY(ms < 2000);
}

void TestHeatmap::normBarsSorted() {
  topiary::Tensor w = ramp({8, 2, 3, 3});
  FilterNormBars bars;
  bars.setWeights(&w, nullptr, false, "l2");
  QCOMPARE(bars.sortedNorms().size(), 8);
  for (int i = 1; i < 8; ++i) QVERIFY(bars.sortedNorms()[i - 1] <= bars.sortedNorms()[i]);
  // Filter 7 has the largest magnitudes in a ramp.
  double l2 = 0;
  for (int i = 7 * 18; i < 8 * 18; ++i) l2 += double(w.f()[i]) * w.f()[i];
  QCOMPARE(bars.sortedNorms().back(), std::sqrt(l2));
}

void TestHeatmap::recipeRoundTrip() {
  PrunePlan p;
  GlobalPlan g;
  g.sparsity = 0.4;
  g.globalRanking = true;
  g.schedule = "agp";
  g.quantBits = 4;
  p.setGlobal(g);
  LayerPlan l;
  l.granularity = "nm";
  l.n = 2;
  l.m = 4;
  p.setPlan("conv2", l);
  LayerPlan locked;
  locked.locked = true;
  p.setPlan("fc3", locked);
  PrunePlan back;
  QString err;
  QVERIFY2(PrunePlan::fromRecipe(p.toRecipe(), back, &err), qPrintable(err));
  QCOMPARE(back.global().sparsity, 0.4);
  QVERIFY(back.global().globalRanking);
  QCOMPARE(back.global().quantBits, 4);
  QCOMPARE(back.layerPlan("conv2").granularity, QString("nm"));
  QVERIFY(back.layerPlan("fc3").locked);
  QJsonObject bad = p.toRecipe();
  bad["method"] = "magic";
  QVERIFY(!PrunePlan::fromRecipe(bad, back, &err));
  QVERIFY(err.contains("method"));
}

QTEST_MAIN(TestHeatmap)
#include "test_heatmap.moc"
