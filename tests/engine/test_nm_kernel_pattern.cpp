// Kernel-wise N:M ("nm_pattern": "kernel"): masks keep n whole kernels of
// every m consecutive input channels, chosen by score; recipe keys; storage.
#include <QtTest>

#include <cmath>

#include "common/test_util.h"
#include "topiary/prune.h"
#include "topiary/recipe.h"
#include "topiary/storage.h"

using namespace topiary;

namespace {

PruneConfig one(const std::string& layer, LayerPruneConfig c) {
  PruneConfig p;
  p.layers[layer] = c;
  return p;
}

LayerPruneConfig kernelNm(int n = 2, int m = 4, Criterion crit = Criterion::L1) {
  LayerPruneConfig c;
  c.granularity = Granularity::NM;
  c.n = n;
  c.m = m;
  c.nmKernel = true;
  c.criterion = crit;
  return c;
}

// Mean |w| (l1) or sqrt(mean w^2) (l2) of kernel (o, c).
double kernelScore(const PrunableLayer& L, const float* w, int64_t o, int64_t c, Criterion crit) {
  double acc = 0;
  for (int64_t k = 0; k < L.kernelSize; ++k) {
    const double v = w[L.index(o, c, k)];
    acc += crit == Criterion::L2 ? v * v : std::fabs(v);
  }
  acc /= static_cast<double>(L.kernelSize);
  return crit == Criterion::L2 ? std::sqrt(acc) : acc;
}

// Checks every group of m input channels of every filter: whole kernels,
// exactly min(n, len) kept, and every kept kernel scores at least as high
// as every pruned one of its group. Returns the number of kept kernels.
int64_t checkKernelGroups(const PrunableLayer& L, const Tensor& w, const Tensor& mask, int n, int m, Criterion crit) {
  int64_t keptTotal = 0;
  for (int64_t o = 0; o < L.outUnits; ++o)
    for (int64_t s = 0; s < L.inUnits; s += m) {
      const int64_t len = std::min<int64_t>(m, L.inUnits - s);
      int64_t kept = 0;
      double minKept = 1e30, maxPruned = -1;
      for (int64_t c = s; c < s + len; ++c) {
        int64_t nz = 0;
        for (int64_t k = 0; k < L.kernelSize; ++k) nz += mask.f()[L.index(o, c, k)] != 0.f;
        if (nz != 0 && nz != L.kernelSize) return -1;  // not a whole kernel
        const double sc = kernelScore(L, w.f(), o, c, crit);
        if (nz) {
          ++kept;
          minKept = std::min(minKept, sc);
        } else {
          maxPruned = std::max(maxPruned, sc);
        }
      }
      if (kept != std::min<int64_t>(n, len)) return -2;
      if (maxPruned > minKept + 1e-7) return -3;  // a weaker kernel kept
      keptTotal += kept;
    }
  return keptTotal;
}

}  // namespace

class TestNmKernelPattern : public QObject {
  Q_OBJECT
 private slots:
  void masksKeepWholeKernelsByScore() {
    Graph g = testutil::architecture("resnet8");
    auto layers = findPrunableLayers(g);
    int checked = 0;
    for (Criterion crit : {Criterion::L1, Criterion::L2})
      for (const auto& L : layers) {
        if (L.op != "Conv" || L.kernelSize < 2) continue;
        auto masks = computeMasks(g, one(L.node, kernelNm(2, 4, crit)));
        QVERIFY2(masks.isOk(), masks.status().message().c_str());
        if (L.inUnits < 4) {  // the 1-channel stem: pruned per tap (2 of every 4 taps) instead
          QVERIFY(masks->count(L.weight));
          int64_t zeros = 0;
          for (int64_t i = 0; i < L.numel(); ++i) zeros += masks->at(L.weight).f()[i] == 0.f;
          QCOMPARE(zeros, L.outUnits * 4);  // 9 taps: two groups of 4 lose 2 each, the tail of 1 keeps it
          continue;
        }
        const Tensor& m = masks->at(L.weight);
        const int64_t kept = checkKernelGroups(L, g.initializers.at(L.weight), m, 2, 4, crit);
        QVERIFY2(kept > 0, (L.node + ": " + std::to_string(kept)).c_str());
        if (L.inUnits % 4 == 0) QCOMPARE(kept, L.outUnits * L.inUnits / 2);
        ++checked;
      }
    QVERIFY(checked >= 4);
  }

  void otherRatiosAndTailGroups() {
    Graph g = testutil::architecture("lenet5");  // conv2 [16, 6, 5, 5]: groups of 4 + a tail of 2
    auto layers = findPrunableLayers(g);
    const PrunableLayer& L = layers[1];
    for (auto nm : {std::pair<int, int>{1, 4}, {2, 4}, {1, 3}}) {
      auto masks = computeMasks(g, one("conv2", kernelNm(nm.first, nm.second)));
      QVERIFY2(masks.isOk(), masks.status().message().c_str());
      const int64_t kept = checkKernelGroups(L, g.initializers.at(L.weight), masks->at(L.weight), nm.first, nm.second,
                                             Criterion::L1);
      QVERIFY(kept > 0);
    }
  }

  void tapPatternIsDifferent() {
    // The tap pattern keeps weights per tap: its kernels are not whole.
    Graph g = testutil::architecture("resnet8");
    auto layers = findPrunableLayers(g);
    const PrunableLayer* L = nullptr;
    for (const auto& l : layers)
      if (l.op == "Conv" && l.kernelSize == 9 && l.inUnits % 4 == 0) L = &l;
    QVERIFY(L);
    LayerPruneConfig tap = kernelNm();
    tap.nmKernel = false;
    auto masks = computeMasks(g, one(L->node, tap));
    QVERIFY(masks.isOk());
    QCOMPARE(checkKernelGroups(*L, g.initializers.at(L->weight), masks->at(L->weight), 2, 4, Criterion::L1),
             int64_t(-1));
  }

  void samePatternOnGemm() {
    Graph g = testutil::architecture("lenet5");
    LayerPruneConfig tap = kernelNm();
    tap.nmKernel = false;
    auto a = computeMasks(g, one("fc1", tap));
    auto b = computeMasks(g, one("fc1", kernelNm()));
    QVERIFY(a.isOk() && b.isOk());
    const Tensor& ma = a->at("fc1.weight");
    const Tensor& mb = b->at("fc1.weight");
    int64_t differ = 0, zeros = 0;
    for (int64_t i = 0; i < ma.numel(); ++i) {
      differ += ma.f()[i] != mb.f()[i];
      zeros += ma.f()[i] == 0.f;
    }
    QCOMPARE(differ, int64_t(0));
    QCOMPARE(zeros, ma.numel() / 2);
  }

  void projectionKeepsKernelPattern() {
    // ADMM's Euclidean projection ranks kernels by L2 under the kernel pattern.
    Graph g = testutil::architecture("resnet8");
    auto layers = findPrunableLayers(g);
    for (const auto& L : layers) {
      if (L.op != "Conv" || L.kernelSize != 9 || L.inUnits % 4 != 0) continue;
      const Tensor& w = g.initializers.at(L.weight);
      auto m = projectionMask(L, kernelNm(), w);
      QVERIFY(m.isOk());
      QCOMPARE(checkKernelGroups(L, w, m.value(), 2, 4, Criterion::L2), L.outUnits * L.inUnits / 2);
      return;
    }
    QFAIL("no 3x3 Conv in resnet8");
  }

  void recipeKey() {
    auto r = parseRecipe(R"({"default": {"granularity": "nm", "n": 2, "m": 4, "nm_pattern": "kernel"},
                             "layers": {"fc1": {"nm_pattern": "tap"}}})");
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QVERIFY(r->defaults.nmKernel);
    QVERIFY(r->layers.at("fc1").nmKernel.has_value());
    QVERIFY(!*r->layers.at("fc1").nmKernel);
    // Written back out and read again: the same pattern.
    auto again = recipeFromJson(recipeToJson(r.value()));
    QVERIFY(again.isOk());
    QVERIFY(again->defaults.nmKernel);
    QCOMPARE(QString::fromStdString(recipeToJson(r.value())["default"]["nm_pattern"].get<std::string>()),
             QString("kernel"));
    QVERIFY(!*again->layers.at("fc1").nmKernel);
    // Default: tap.
    auto d = parseRecipe(R"({"default": {"granularity": "nm"}})");
    QVERIFY(d.isOk());
    QVERIFY(!d->defaults.nmKernel);
    QCOMPARE(QString::fromStdString(recipeToJson(d.value())["default"]["nm_pattern"].get<std::string>()),
             QString("tap"));
  }

  void recipeErrorsNameTheKey() {
    auto bad = parseRecipe(R"({"default": {"granularity": "nm", "nm_pattern": "diagonal"}})");
    QVERIFY(!bad.isOk());
    QVERIFY(bad.status().kind() == ErrorKind::BadInput);
    QVERIFY2(bad.status().message().find("default.nm_pattern") != std::string::npos, bad.status().message().c_str());
    QVERIFY(bad.status().message().find("diagonal") != std::string::npos);
    auto notString = parseRecipe(R"({"layers": {"conv1": {"nm_pattern": 4}}})");
    QVERIFY(!notString.isOk());
    QVERIFY2(notString.status().message().find("layers.conv1.nm_pattern") != std::string::npos,
             notString.status().message().c_str());
  }

  void resolvedAndPruned() {
    Graph g = testutil::architecture("resnet8");
    auto r = parseRecipe(R"({"default": {"granularity": "nm", "nm_pattern": "kernel"}})");
    QVERIFY(r.isOk());
    auto res = resolveRecipe(g, r.value());
    QVERIFY2(res.isOk(), res.status().message().c_str());
    int kernelLayers = 0;
    for (const auto& kv : res->config.layers) kernelLayers += kv.second.nmKernel;
    QVERIFY(kernelLayers >= 5);
    auto masks = computeMasks(g, res->config);
    QVERIFY(masks.isOk());
    // Storage of the masked weights: one 2-bit index per kept kernel on 3x3 layers.
    Graph pruned = g;
    for (const auto& kv : masks.value()) {
      Tensor& w = pruned.initializers.at(kv.first);
      for (int64_t i = 0; i < w.numel(); ++i) w.f()[i] *= kv.second.f()[i];
    }
    StorageOptions so;
    ModelStorage ms = measureStorage(pruned, so);
    auto layers = findPrunableLayers(pruned);
    int priced = 0;
    for (size_t i = 0; i < layers.size(); ++i) {
      const PrunableLayer& L = layers[i];
      if (L.op != "Conv" || L.kernelSize != 9 || L.inUnits % 4 != 0) continue;
      const StorageCost& c = ms.layers[i].formats.at(StorageFormat::NM);
      QVERIFY(c.applicable);
      const int64_t keptKernels = L.outUnits * L.inUnits / 2;
      QCOMPARE(c.valueBits, keptKernels * 9 * 32);
      QCOMPARE(c.indexBits, keptKernels * 2);
      ++priced;
    }
    QVERIFY(priced >= 4);
  }
};

QTEST_APPLESS_MAIN(TestNmKernelPattern)
#include "test_nm_kernel_pattern.moc"
