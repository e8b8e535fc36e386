// Weight quantization: error bounds, zeros preserved, binary/ternary codes,
// QuantizeLinear/DequantizeLinear kernels, QDQ export run by our executor and
// by ONNX Runtime.
#include <QtTest>
#include <cmath>
#include <random>
#include <set>

#include "common/ort_util.h"
#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/executor.h"
#include "topiary/metrics.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/quantize.h"
#include "topiary/recipe.h"

using namespace topiary;

namespace {

Graph lenetWithZeros() {
  auto g = buildArchitecture("lenet5");
  if (!g) qFatal("%s", g.status().message().c_str());
  // Every third weight pruned.
  for (auto& kv : g->initializers)
    if (kv.first.find("weight") != std::string::npos)
      for (int64_t i = 0; i < kv.second.numel(); i += 3) kv.second.f()[i] = 0.f;
  return std::move(g.value());
}

Tensor runOnce(const Graph& g, const Tensor& x) {
  auto ex = Executor::create(g);
  if (!ex) qFatal("%s", ex.status().message().c_str());
  Status st = (*ex)->run(x);
  if (!st) qFatal("%s", st.message().c_str());
  return (*ex)->output(0);
}

Tensor randomInput(int64_t n) {
  Tensor x({n, 1, 28, 28});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.f()[i] = u(rng);
  return x;
}

}  // namespace

class TestQuant : public QObject {
  Q_OBJECT
 private slots:
  void errorBoundAndZeros() {
    Graph g = lenetWithZeros();
    auto layers = findPrunableLayers(g);
    for (int bits = 1; bits <= 8; ++bits)
      for (bool perChannel : {true, false}) {
        QuantSpec spec{bits, perChannel};
        for (const auto& L : layers) {
          const Tensor& w = g.initializers.at(L.weight);
          auto qw = quantizeWeight(L, w, spec);
          QVERIFY(qw.isOk());
          Tensor fq = w;
          QVERIFY(fakeQuantize(L, fq, spec).isOk());
          for (int64_t o = 0; o < L.outUnits; ++o) {
            float s = qw->scales[perChannel ? static_cast<size_t>(o) : 0];
            std::set<float> levels;
            for (int64_t c = 0; c < L.inUnits; ++c)
              for (int64_t k = 0; k < L.kernelSize; ++k) {
                int64_t i = L.index(o, c, k);
                if (w.f()[i] == 0.f) QCOMPARE(fq.f()[i], 0.f);  // pruned stays pruned
                if (bits >= 3) QVERIFY(std::fabs(w.f()[i] - fq.f()[i]) <= s * 0.5f * 1.0001f);
                levels.insert(fq.f()[i]);
              }
            // 1 bit: {-s, 0 (pruned), s}; 2 bits: the same three levels; k bits: at most 2^k - 1.
            QVERIFY(static_cast<int>(levels.size()) <= (bits <= 2 ? 3 : (1 << bits) - 1));
          }
        }
      }
  }

  void binaryScaleIsMeanMagnitude() {
    Graph g = lenetWithZeros();
    auto layers = findPrunableLayers(g);
    const PrunableLayer& L = layers[4];  // fc3 [10, 84]
    Tensor& w = g.initializers.at(L.weight);
    for (int64_t i = 0; i < 84; ++i) w.f()[i] = (i % 2 ? 1.f : -3.f);  // row 0: mean |w| = 2
    auto qw = quantizeWeight(L, w, {1, true});
    QVERIFY(qw.isOk());
    QCOMPARE(qw->scales[0], 2.f);
    QCOMPARE(int(qw->codes.data<int8_t>()[0]), -1);
    QCOMPARE(int(qw->codes.data<int8_t>()[1]), 1);
  }

  void rejectsBadBits() {
    QuantSpec spec{9, true};
    Status st = checkQuantSpec(spec);
    QVERIFY(!st.isOk());
    QVERIFY(st.message().find("9") != std::string::npos);
  }

  void quantizeLinearKernel() {
    Node n;
    n.name = "q";
    n.opType = "QuantizeLinear";
    n.attrs["axis"] = Attribute::ofInt(0);
    auto k = OpRegistry::instance().build(n, 13);
    QVERIFY(k.isOk());
    Tensor x = Tensor::fromVector<float>({2, 3}, {0.5f, 1.5f, -300.f, 2.5f, 10.f, -1.f});
    Tensor s = Tensor::fromVector<float>({2}, {1.f, 2.f});
    Tensor z(DType::Int8, {2});
    Tensor y;
    QVERIFY((*k)->forward({&x, &s, &z}, {&y}, RunContext{}).isOk());
    QCOMPARE(y.dtype(), DType::Int8);
    const int8_t* q = y.data<int8_t>();
    // round half to even: 0.5 -> 0, 1.5 -> 2; saturation at -128; row 1 scale 2: 1.25 -> 1, 5, -0.5 -> -0.
    QCOMPARE(int(q[0]), 0);
    QCOMPARE(int(q[1]), 2);
    QCOMPARE(int(q[2]), -128);
    QCOMPARE(int(q[3]), 1);
    QCOMPARE(int(q[4]), 5);
    QCOMPARE(int(q[5]), 0);
  }

  void dequantizeLinearKernel() {
    Node n;
    n.name = "dq";
    n.opType = "DequantizeLinear";
    n.attrs["axis"] = Attribute::ofInt(1);
    auto k = OpRegistry::instance().build(n, 13);
    QVERIFY(k.isOk());
    Tensor x = Tensor::fromVector<int8_t>({2, 2}, {10, -4, 3, 127});
    Tensor s = Tensor::fromVector<float>({2}, {0.5f, 2.f});
    Tensor z = Tensor::fromVector<int8_t>({2}, {2, 0});
    Tensor y;
    QVERIFY((*k)->forward({&x, &s, &z}, {&y}, RunContext{}).isOk());
    QCOMPARE(y.f()[0], 4.f);    // (10-2)*0.5
    QCOMPARE(y.f()[1], -8.f);   // -4*2
    QCOMPARE(y.f()[2], 0.5f);   // (3-2)*0.5
    QCOMPARE(y.f()[3], 254.f);
    // Per-tensor uint8 without zero point.
    Tensor xu = Tensor::fromVector<uint8_t>({3}, {0, 1, 255});
    Tensor su = Tensor::scalar(0.25f);
    QVERIFY((*k)->forward({&xu, &su}, {&y}, RunContext{}).isOk());
    QCOMPARE(y.f()[2], 63.75f);
  }

  void qdqExportMatchesFakeQuant_data() {
    QTest::addColumn<int>("opset");
    for (int o : {13, 11, 10, 9, 7, 6}) QTest::newRow(qPrintable(QString("opset %1").arg(o))) << o;
  }
  // At the model's own opset, which the export never changes: DequantizeLinear
  // where that opset has it for these weights (per channel from 13, per
  // tensor from 10), else Cast and Mul by the scales (legacy broadcasting
  // with an axis at opset 6).
  void qdqExportMatchesFakeQuant() {
    QFETCH(int, opset);
    Graph g = lenetWithZeros();
    for (auto& imp : g.opsetImports)
      if (imp.domain.empty() || imp.domain == "ai.onnx") imp.version = opset;
    QCOMPARE(g.opset(), int64_t(opset));
    Tensor x = randomInput(4);
    for (bool perChannel : {true, false}) {
      QuantSpec spec{8, perChannel};
      auto q = exportQdq(g, spec);
      QVERIFY2(q.isOk(), q.status().message().c_str());
      QCOMPARE(q->opset(), int64_t(opset));
      Status chk = checkModel(q.value());
      QVERIFY2(chk.isOk(), chk.message().c_str());
      QCOMPARE(q->initializers.at("conv1.weight_quantized").dtype(), DType::Int8);
      const bool dql = opset >= 13 || (opset >= 10 && !perChannel);
      int dequantize = 0, cast = 0, mul = 0;
      for (const auto& n : q->nodes) {
        dequantize += n.opType == "DequantizeLinear";
        cast += n.opType == "Cast";
        mul += n.opType == "Mul";
      }
      QCOMPARE(dequantize, dql ? 5 : 0);  // lenet5: 2 Conv + 3 Gemm weights
      QCOMPARE(cast, dql ? 0 : 5);
      QCOMPARE(mul, dql ? 0 : 5);
      Graph fq = g;
      QVERIFY(fakeQuantizeGraph(fq, spec).isOk());
      Tensor a = runOnce(q.value(), x), b = runOnce(fq, x);
      QVERIFY(testutil::maxAbsDiff(a, b) < 1e-4);
      auto bytesQ = serializeModel(q.value()), bytesF = serializeModel(g);
      QVERIFY(bytesQ->size() * 3 < bytesF->size());  // int8 weights: about 4x smaller
      // Reload: the saved file runs the same.
      auto back = loadModelFromBytes(bytesQ.value());
      QVERIFY(back.isOk());
      QVERIFY(testutil::maxAbsDiff(runOnce(back.value(), x), a) == 0.0);
    }
  }

  void qdqRunsInOnnxRuntime_data() {
    QTest::addColumn<int>("opset");
    QTest::addColumn<bool>("perChannel");
    for (int o : {13, 11})  // ONNX Runtime runs opset 7 and later
      for (bool pc : {true, false})
        QTest::newRow(qPrintable(QString("opset %1 %2").arg(o).arg(pc ? "per channel" : "per tensor"))) << o << pc;
  }
  void qdqRunsInOnnxRuntime() {
    QFETCH(int, opset);
    QFETCH(bool, perChannel);
    std::string why = testutil::ortUnavailableReason();
    if (!why.empty()) QSKIP(why.c_str());
    Graph g = lenetWithZeros();
    for (auto& imp : g.opsetImports)
      if (imp.domain.empty() || imp.domain == "ai.onnx") imp.version = opset;
    auto q = exportQdq(g, {8, perChannel});
    QVERIFY(q.isOk());
    std::string path = testutil::tempDir() + "/qdq.onnx";
    QVERIFY(saveModel(q.value(), path).isOk());
    Tensor x = randomInput(2);
    testutil::OrtJob job;
    job.model = path;
    job.inputs.push_back({"input", x});
    auto rep = testutil::runOrt(job);
    QVERIFY2(rep.error.empty(), rep.error.c_str());
    QCOMPARE(rep.outputs.size(), size_t(1));
    double d = testutil::maxAbsDiff(rep.outputs[0].tensor, runOnce(q.value(), x));
    QVERIFY2(d < 1e-3, std::to_string(d).c_str());
  }

  // A quantized export, either form: its integer weights are found with the
  // values fake quantization gives, counted as the weights they stand for
  // (not their scales), and replaced by float initializers for pruning;
  // runRecipe then prunes them (it did nothing: no float weight to find).
  void dequantizedWeights_data() {
    QTest::addColumn<int>("opset");
    QTest::addColumn<bool>("perChannel");
    for (int o : {13, 11, 6})
      for (bool pc : {true, false})
        QTest::newRow(qPrintable(QString("opset %1 %2").arg(o).arg(pc ? "per channel" : "per tensor"))) << o << pc;
  }
  void dequantizedWeights() {
    QFETCH(int, opset);
    QFETCH(bool, perChannel);
    Graph g = lenetWithZeros();
    for (auto& imp : g.opsetImports)
      if (imp.domain.empty() || imp.domain == "ai.onnx") imp.version = opset;
    const QuantSpec spec{8, perChannel};
    auto q = exportQdq(g, spec);
    QVERIFY(q.isOk());
    Graph fq = g;
    QVERIFY(fakeQuantizeGraph(fq, spec).isOk());
    QVERIFY(findPrunableLayers(q.value()).empty());  // the integer weights hide them

    auto found = findDequantizedWeights(q.value());
    QVERIFY2(found.isOk(), found.status().message().c_str());
    QCOMPARE(found->values.size(), size_t(5));
    for (const auto& kv : found->values) {
      QVERIFY2(testutil::maxAbsDiff(kv.second, fq.initializers.at(kv.first)) == 0.0, kv.first.c_str());
      QVERIFY(found->sources.count(kv.first + "_quantized"));
      QVERIFY(found->sources.count(kv.first + "_scale"));
    }

    auto mq = measureModel(q.value()), mf = measureModel(fq);
    QVERIFY(mq.isOk() && mf.isOk());
    QCOMPARE(mq->params, mf->params);
    QCOMPARE(mq->nonzeroParams, mf->nonzeroParams);
    QVERIFY(mq->nonzeroParams < mq->params);  // every third weight pruned
    // Dequantizing the weights is no work per input: the FLOPs are the float
    // model's (info on lenet5's 4-bit export said 975.3K against 852.4K).
    QCOMPARE(mq->flops, mf->flops);

    Graph back = q.value();
    auto n = dequantizeWeights(back);
    QVERIFY2(n.isOk(), n.status().message().c_str());
    QCOMPARE(n.value(), 5);
    for (const auto& node : back.nodes)
      QVERIFY2(node.opType != "DequantizeLinear" && node.opType != "Cast", node.opType.c_str());
    QCOMPARE(back.initializers.count("conv1.weight_quantized"), size_t(0));
    QCOMPARE(findPrunableLayers(back).size(), size_t(5));
    Tensor x = randomInput(2);
    QVERIFY(testutil::maxAbsDiff(runOnce(back, x), runOnce(q.value(), x)) < 1e-6);

    auto recipe = parseRecipe(R"({"default": {"granularity": "element", "sparsity": 0.75}})");
    QVERIFY(recipe.isOk());
    auto run = runRecipe(q.value(), recipe.value());
    QVERIFY2(run.isOk(), run.status().message().c_str());
    QVERIFY2(prunableSparsity(run->masked) > 0.7, std::to_string(prunableSparsity(run->masked)).c_str());
    bool noted = false;
    for (const auto& line : run->log) noted |= line.find("5 weights stored as integers") != std::string::npos;
    QVERIFY(noted);
  }

  // Below opset 6 (Cast's 'to' was a string) the export is refused, naming
  // the opset.
  void qdqRefusesOpsetBelow6() {
    Graph g = lenetWithZeros();
    for (auto& imp : g.opsetImports)
      if (imp.domain.empty() || imp.domain == "ai.onnx") imp.version = 5;
    auto q = exportQdq(g, {8, true});
    QVERIFY(!q.isOk());
    QCOMPARE(q.status().kind(), ErrorKind::BadInput);
    QVERIFY2(q.status().message().find("opset 5") != std::string::npos, q.status().message().c_str());
  }
};

QTEST_APPLESS_MAIN(TestQuant)
#include "test_quant.moc"
