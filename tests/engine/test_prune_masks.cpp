// Masks of every granularity: requested sparsity, structure, criterion order.
#include <QtTest>

#include <cmath>

#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/prune.h"

using namespace topiary;

namespace {

Graph lenet() { return testutil::architecture("lenet5"); }

int64_t zeros(const Tensor& t) {
  int64_t z = 0;
  for (int64_t i = 0; i < t.numel(); ++i) z += t.f()[i] == 0.f;
  return z;
}

PruneConfig one(const std::string& layer, LayerPruneConfig c) {
  PruneConfig p;
  p.layers[layer] = c;
  return p;
}

}  // namespace

class TestPruneMasks : public QObject {
  Q_OBJECT
 private slots:
  void findsLayers() {
    Graph g = lenet();
    auto layers = findPrunableLayers(g);
    QCOMPARE(layers.size(), size_t(5));
    QCOMPARE(QString::fromStdString(layers[0].node), QString("conv1"));
    QCOMPARE(layers[1].outUnits, int64_t(16));
    QCOMPARE(layers[1].inUnits, int64_t(6));
    QCOMPARE(layers[1].kernelSize, int64_t(25));
    QCOMPARE(layers[2].outUnits, int64_t(120));  // fc1, transB=1 -> [120, 400]
    QCOMPARE(layers[2].inUnits, int64_t(400));
    QVERIFY(findPrunableLayer(layers, "fc2.weight") == &layers[3]);  // by initializer name
  }

  void elementSparsityAndOrder() {
    Graph g = lenet();
    LayerPruneConfig c;
    c.sparsity = 0.7;
    auto masks = computeMasks(g, one("fc1", c));
    QVERIFY2(masks.isOk(), masks.status().message().c_str());
    const Tensor& m = masks->at("fc1.weight");
    QCOMPARE(zeros(m), int64_t(std::llround(48000 * 0.7)));
    // L1: every kept weight is at least as large as every pruned one.
    const Tensor& w = g.initializers.at("fc1.weight");
    float maxPruned = 0, minKept = 1e9f;
    for (int64_t i = 0; i < w.numel(); ++i) {
      float a = std::fabs(w.f()[i]);
      if (m.f()[i] == 0.f) maxPruned = std::max(maxPruned, a);
      else minKept = std::min(minKept, a);
    }
    QVERIFY(maxPruned <= minKept);
    QCOMPARE(masks->size(), size_t(1));  // only the pruned initializer
  }

  void largerWeightSurvivesL1() {
    Graph g = lenet();
    Tensor& w = g.initializers.at("fc3.weight");
    w.fill(0.1f);
    w.f()[5] = 3.f;
    w.f()[7] = -2.f;
    LayerPruneConfig c;
    c.sparsity = 0.99;
    auto masks = computeMasks(g, one("fc3", c));
    QVERIFY(masks.isOk());
    const Tensor& m = masks->at("fc3.weight");
    QCOMPARE(m.f()[5], 1.f);
    QCOMPARE(m.f()[7], 1.f);
    QCOMPARE(zeros(m), int64_t(std::llround(840 * 0.99)));
  }

  void nmExactPerGroup() {
    Graph g = lenet();
    for (auto nm : {std::pair<int, int>{2, 4}, {1, 4}, {3, 8}}) {
      LayerPruneConfig c;
      c.granularity = Granularity::NM;
      c.n = nm.first;
      c.m = nm.second;
      PruneConfig p;
      p.layers["fc1"] = c;
      p.layers["conv2"] = c;
      auto masks = computeMasks(g, p);
      QVERIFY2(masks.isOk(), masks.status().message().c_str());
      // fc1 [120, 400]: groups of m consecutive inputs per output row.
      const Tensor& m = masks->at("fc1.weight");
      for (int64_t o = 0; o < 120; ++o)
        for (int64_t s = 0; s < 400; s += nm.second) {
          int kept = 0;
          for (int j = 0; j < nm.second; ++j) kept += m.f()[o * 400 + s + j] != 0.f;
          QCOMPARE(kept, nm.first);
        }
      // conv2 [16, 6, 5, 5]: reduction r = k*6 + c; 150 = 37 full groups of 4 + a tail of 2.
      const Tensor& mc = masks->at("conv2.weight");
      auto layers = findPrunableLayers(g);
      const PrunableLayer& L = layers[1];
      int64_t R = 150;
      for (int64_t o = 0; o < 16; ++o)
        for (int64_t s = 0; s + nm.second <= R; s += nm.second) {
          int kept = 0;
          for (int64_t r = s; r < s + nm.second; ++r) kept += mc.f()[L.index(o, r % 6, r / 6)] != 0.f;
          QCOMPARE(kept, nm.first);
        }
    }
  }

  void nmKeepsLargest() {
    Graph g = lenet();
    Tensor& w = g.initializers.at("fc3.weight");  // [10, 84]
    for (int64_t i = 0; i < w.numel(); ++i) w.f()[i] = static_cast<float>((i * 7) % 4) - 1.5f;  // |.| in {0.5,1.5}
    LayerPruneConfig c;
    c.granularity = Granularity::NM;
    auto masks = computeMasks(g, one("fc3", c));
    QVERIFY(masks.isOk());
    const Tensor& m = masks->at("fc3.weight");
    for (int64_t i = 0; i < w.numel(); ++i)
      if (std::fabs(w.f()[i]) == 1.5f) QCOMPARE(m.f()[i], 1.f);  // two of each four are 1.5
  }

  void kernelWholeKernels() {
    Graph g = lenet();
    LayerPruneConfig c;
    c.granularity = Granularity::Kernel;
    c.sparsity = 0.5;
    auto masks = computeMasks(g, one("conv2", c));
    QVERIFY2(masks.isOk(), masks.status().message().c_str());
    const Tensor& m = masks->at("conv2.weight");
    int zeroKernels = 0;
    for (int64_t k = 0; k < 16 * 6; ++k) {
      int z = 0;
      for (int64_t e = 0; e < 25; ++e) z += m.f()[k * 25 + e] == 0.f;
      QVERIFY(z == 0 || z == 25);
      zeroKernels += z == 25;
    }
    QCOMPARE(zeroKernels, 48);
  }

  void kernelRejectedOnGemm() {
    Graph g = lenet();
    LayerPruneConfig c;
    c.granularity = Granularity::Kernel;
    c.sparsity = 0.5;
    auto masks = computeMasks(g, one("fc1", c));
    QVERIFY(!masks.isOk());
    QCOMPARE(masks.status().kind(), ErrorKind::BadInput);
    QVERIFY(masks.status().message().find("fc1") != std::string::npos);
  }

  void globalRanking() {
    Graph g = lenet();
    // Make fc2 tiny so global magnitude ranking prunes it first.
    Tensor& w = g.initializers.at("fc2.weight");
    for (int64_t i = 0; i < w.numel(); ++i) w.f()[i] *= 1e-4f;
    PruneConfig p;
    LayerPruneConfig c;
    c.sparsity = 0.5;
    p.layers["fc1"] = c;
    p.layers["fc2"] = c;
    p.globalRanking = true;
    p.globalSparsity = 0.2;
    auto masks = computeMasks(g, p);
    QVERIFY(masks.isOk());
    int64_t total = 48000 + 10080;
    QCOMPARE(zeros(masks->at("fc2.weight")), int64_t(10080));  // all of fc2 ranks lowest
    QCOMPARE(zeros(masks->at("fc2.weight")) + zeros(masks->at("fc1.weight")), int64_t(std::llround(total * 0.2)));
  }

  void randomIsSeeded() {
    Graph g = lenet();
    LayerPruneConfig c;
    c.sparsity = 0.5;
    c.criterion = Criterion::Random;
    MaskOptions o1, o2;
    o2.seed = 2;
    auto a = computeMasks(g, one("fc2", c), o1), b = computeMasks(g, one("fc2", c), o1), d = computeMasks(g, one("fc2", c), o2);
    QVERIFY(a.isOk() && b.isOk() && d.isOk());
    int same = 0, diff = 0;
    for (int64_t i = 0; i < 10080; ++i) {
      same += a->at("fc2.weight").f()[i] == b->at("fc2.weight").f()[i];
      diff += a->at("fc2.weight").f()[i] != d->at("fc2.weight").f()[i];
    }
    QCOMPARE(same, 10080);
    QVERIFY(diff > 1000);
    QCOMPARE(zeros(a->at("fc2.weight")), int64_t(5040));
  }

  void previousMaskStaysPruned() {
    Graph g = lenet();
    LayerPruneConfig c;
    c.sparsity = 0.3;
    c.criterion = Criterion::Random;
    auto first = computeMasks(g, one("fc2", c));
    QVERIFY(first.isOk());
    MaskOptions o;
    o.previous = &first.value();
    o.seed = 99;
    c.sparsity = 0.6;
    auto second = computeMasks(g, one("fc2", c), o);
    QVERIFY(second.isOk());
    const Tensor& m1 = first->at("fc2.weight");
    const Tensor& m2 = second->at("fc2.weight");
    for (int64_t i = 0; i < m1.numel(); ++i)
      if (m1.f()[i] == 0.f) QCOMPARE(m2.f()[i], 0.f);
    QCOMPARE(zeros(m2), int64_t(6048));
  }

  void unitScoresFilterL2() {
    Graph g = lenet();
    auto layers = findPrunableLayers(g);
    Tensor& w = g.initializers.at("conv1.weight");  // [6,1,5,5]
    w.fill(1.f);
    for (int64_t e = 0; e < 25; ++e) w.f()[3 * 25 + e] = 2.f;
    auto s = unitScores(layers[0], w, Granularity::Filter, Criterion::L2);
    QVERIFY(s.isOk());
    QCOMPARE(s->size(), size_t(6));
    QCOMPARE((*s)[3], 2.f);
    QCOMPARE((*s)[0], 1.f);
  }

  void validationNamesKeys() {
    Graph g = lenet();
    LayerPruneConfig c;
    c.sparsity = 1.5;
    Status st = validatePruneConfig(g, one("fc1", c));
    QVERIFY(!st.isOk());
    QVERIFY(st.message().find("1.5") != std::string::npos);
    c.sparsity = 0.5;
    st = validatePruneConfig(g, one("nosuch", c));
    QVERIFY(st.message().find("nosuch") != std::string::npos);
    c.criterion = Criterion::BnScale;
    st = validatePruneConfig(g, one("fc1", c));
    QVERIFY(st.message().find("bn_scale") != std::string::npos);
  }

  void filterMasksCoverGroup() {
    Graph g = lenet();
    auto groups = buildDependencyGroups(g);
    if (!groups && groups.status().kind() == ErrorKind::Unsupported) QSKIP("dependency groups not available yet");
    QVERIFY2(groups.isOk(), groups.status().message().c_str());
    LayerPruneConfig c;
    c.granularity = Granularity::Filter;
    c.sparsity = 0.5;
    auto masks = computeMasks(g, one("conv2", c));
    QVERIFY2(masks.isOk(), masks.status().message().c_str());
    const Tensor& m = masks->at("conv2.weight");
    int zeroFilters = 0;
    for (int64_t o = 0; o < 16; ++o) {
      int z = 0;
      for (int64_t e = 0; e < 150; ++e) z += m.f()[o * 150 + e] == 0.f;
      QVERIFY(z == 0 || z == 150);
      zeroFilters += z == 150;
    }
    QCOMPARE(zeroFilters, 8);
    QCOMPARE(zeros(masks->at("conv2.bias")), int64_t(8));
    // fc1 reads 16 channels x 25 positions: 8 channels' columns are masked.
    QCOMPARE(zeros(masks->at("fc1.weight")), int64_t(120 * 8 * 25));
  }
};

QTEST_APPLESS_MAIN(TestPruneMasks)
#include "test_prune_masks.moc"
