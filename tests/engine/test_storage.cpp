// Storage cost models on hand-computed examples, effective FLOPs, reports.
#include <QtTest>

#include "topiary/prune_report.h"
#include "topiary/storage.h"

using namespace topiary;

namespace {

// y = x W^T + b with W [2, 8] (transB = 1), x [1, 8].
Graph smallGemm(const std::vector<float>& w) {
  Graph g;
  ValueInfo x;
  x.name = "x";
  x.hasShape = true;
  x.dims = {Dim{1, ""}, Dim{8, ""}};
  g.inputs.push_back(x);
  g.initializers["W"] = Tensor::fromVector<float>({2, 8}, w);
  g.initializers["b"] = Tensor::fromVector<float>({2}, {0.5f, -0.5f});
  Node n;
  n.name = "fc";
  n.opType = "Gemm";
  n.inputs = {"x", "W", "b"};
  n.outputs = {"y"};
  n.attrs["transB"] = Attribute::ofInt(1);
  g.nodes.push_back(n);
  ValueInfo y;
  y.name = "y";
  g.outputs.push_back(y);
  if (!g.validate()) qFatal("graph invalid");
  return g;
}

const std::vector<float> kW = {1, 0, 0, 2, 0, 0, 0, 0,   // row 0
                               0, 0, 0, 0, 0, 0, 0, 3};  // row 1

}  // namespace

class TestStorage : public QObject {
  Q_OBJECT
 private slots:
  void bitsForCounts() {
    QCOMPARE(bitsFor(1), 1);
    QCOMPARE(bitsFor(2), 1);
    QCOMPARE(bitsFor(4), 2);
    QCOMPARE(bitsFor(5), 3);
    QCOMPARE(bitsFor(8), 3);
    QCOMPARE(bitsFor(257), 9);
  }

  void handComputedFormats() {
    Graph g = smallGemm(kW);
    auto layers = findPrunableLayers(g);
    QCOMPARE(layers.size(), size_t(1));
    const PrunableLayer& L = layers[0];
    const float* w = g.initializers.at("W").f();
    StorageCost d = denseCost(16, 32);
    QCOMPARE(d.valueBits, int64_t(512));
    QCOMPARE(d.indexBits, int64_t(0));
    StorageCost bm = bitmaskCost(w, 16, 32);
    QCOMPARE(bm.valueBits, int64_t(96));
    QCOMPARE(bm.indexBits, int64_t(16));
    // CSR: 3 row pointers of ceil(log2(4)) = 2 bits, 3 column indices of ceil(log2(8)) = 3 bits.
    StorageCost csr = csrCost(L, w, 32);
    QCOMPARE(csr.valueBits, int64_t(96));
    QCOMPARE(csr.indexBits, int64_t(3 * 2 + 3 * 3));
    // Relative index, 4-bit gaps: positions 0, 3, 15 -> gaps 1, 3, 12, all fit.
    StorageCost rel = relativeIndexCost(w, 16, 32, relativeIndexBitsFor(L));
    QCOMPARE(relativeIndexBitsFor(L), 4);
    QCOMPARE(rel.valueBits, int64_t(96));
    QCOMPARE(rel.indexBits, int64_t(12));
    // 2-bit gaps (max 4): the gap of 12 needs two filler zeros (at 7 and 11).
    StorageCost rel2 = relativeIndexCost(w, 16, 8, 2);
    QCOMPARE(rel2.valueBits, int64_t(5 * 8));
    QCOMPARE(rel2.indexBits, int64_t(5 * 2));
    // A gap of exactly 4 fits; 5 needs one filler.
    std::vector<float> v4 = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    QCOMPARE(relativeIndexCost(v4.data(), 13, 1, 2).valueBits, int64_t(4));
    // 2:4: 4 groups x 2 kept values; metadata 2 bits per kept value.
    StorageCost nm = nmCost(L, w, 2, 4, 32);
    QVERIFY(nm.applicable);
    QCOMPARE(nm.valueBits, int64_t(8 * 32));
    QCOMPARE(nm.indexBits, int64_t(8 * 2));
    QVERIFY(!nmCost(L, w, 1, 4, 32).applicable);  // row 0's first group has two nonzeros
    // 3:8: one group per row, 3 values, ceil(log2(C(8,3) = 56)) = 6 bits each.
    StorageCost nm38 = nmCost(L, w, 3, 8, 32);
    QCOMPARE(nm38.valueBits, int64_t(2 * 3 * 32));
    QCOMPARE(nm38.indexBits, int64_t(2 * 6));
    // Structured: both rows used, columns 0, 3, 7 used -> 2 x 3 dense.
    QCOMPARE(structuredCost(L, w, 32).valueBits, int64_t(6 * 32));
  }

  void modelTotalsAtFourBits() {
    Graph g = smallGemm(kW);
    StorageOptions o;
    o.bits = 4;
    ModelStorage s = measureStorage(g, o);
    QCOMPARE(s.otherBits, int64_t(64));  // the bias, dense float32
    const auto& csr = s.totals.at(StorageFormat::Csr);
    QCOMPARE(csr.valueBits, int64_t(64 + 3 * 4));
    QCOMPARE(csr.indexBits, int64_t(15));
    QCOMPARE(csr.scaleBits, int64_t(2 * 32));  // per-channel scales
    // At 4 bits CSR's index costs more than its values: the teaching point.
    QVERIFY(csr.indexBits > 3 * 4);
    o.n = 1;
    ModelStorage s14 = measureStorage(g, o);
    QCOMPARE(s14.totals.at(StorageFormat::NM).denseFallbacks, 1);
    QCOMPARE(s14.totals.at(StorageFormat::NM).valueBits, int64_t(64 + 16 * 4));
    auto j = storageToJson(s);
    QCOMPARE(j["formats"]["csr"]["index_bits"].get<int64_t>(), int64_t(15));
  }

  void effectiveFlopsSkipZeros() {
    Graph g = smallGemm(kW);
    auto f = measureEffectiveFlops(g);
    QVERIFY2(f.isOk(), f.status().message().c_str());
    QCOMPARE(f->dense, 2.0 * 2 * 8 + 2);          // 16 multiply-adds + 2 bias adds
    QCOMPARE(f->effective, 2.0 * 3 + 2);          // 3 nonzero weights
  }

  void reportJsonKeys() {
    Graph g = smallGemm(kW);
    ReportOptions o;
    o.latencyRuns = 3;
    auto r = measureReport(g, o);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    auto j = reportToJson(r.value());
    for (const char* k : {"params", "nonzero_params", "flops", "size_bytes", "layers", "latency_ms", "storage"})
      QVERIFY2(j.contains(k), k);
    QCOMPARE(j["params"].get<int64_t>(), int64_t(18));
    QCOMPARE(j["nonzero_params"].get<int64_t>(), int64_t(5));
    QVERIFY(j["latency_ms"]["median"].get<double>() >= j["latency_ms"]["min"].get<double>());
    QCOMPARE(j["storage"]["8"]["formats"]["dense"]["value_bits"].get<int64_t>(), int64_t(16 * 8 + 64));
  }
};

QTEST_APPLESS_MAIN(TestStorage)
#include "test_storage.moc"
