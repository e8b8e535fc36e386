// The fused squeeze-excite (optimize/squeeze_excite_fusion.h rewrite +
// ops/nn/squeeze_excite.h kernel) against the same chain run as stored
// (GlobalAveragePool, two 1x1 Convs, their activations, Mul) on random
// shapes, activations, bias or none, either Mul operand order, batch sizes
// that split into uneven chunks, one and two threads; and the chains the
// rewrite must leave alone.
#include <QtTest>
#include <random>

#include "common/test_util.h"
#include "topiary/executor.h"
#include "topiary/graph.h"
#include "topiary/onnx_io.h"

using namespace topiary;

namespace {

struct SeCase {
  int64_t c, r, h, w;
  const char* act1;  // "" = none; activations as separate nodes, fused by the optimiser
  const char* act2;
  bool bias, gateFirst;
  // What may stop the fusion: "" (fused), "gate-output" (the gate is also a
  // graph output), "weights-computed" (the first Conv's weights come from a
  // node, not an initializer), "other-x" (Mul by another tensor).
  const char* spoil;
};

Tensor randomTensor(const Shape& s, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::Float, s);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.f()[i] = u(rng);
  return t;
}

Node node(const std::string& name, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  Node n;
  n.name = name;
  n.opType = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

void addAct(Graph& g, const std::string& act, const std::string& name, const std::string& in, const std::string& out) {
  Node n = node(name, act, {in}, {out});
  if (act == "HardSigmoid") {
    n.attrs["alpha"] = Attribute::ofFloat(0.25f);
    n.attrs["beta"] = Attribute::ofFloat(0.4f);
  }
  if (act == "LeakyRelu") n.attrs["alpha"] = Attribute::ofFloat(0.1f);
  g.nodes.push_back(n);
}

// x -> HardSwish -> a; SE(a) -> y, followed by a Relu so y is not the graph output.
Graph seGraph(const SeCase& s, std::mt19937& rng) {
  Graph g;
  g.opsetImports = {{"", 14}};  // HardSwish
  ValueInfo in;
  in.name = "x";
  in.hasShape = true;
  in.dims = {Dim{-1, "N"}, Dim{s.c, ""}, Dim{s.h, ""}, Dim{s.w, ""}};
  g.inputs = {in};
  g.nodes.push_back(node("act0", "HardSwish", {"x"}, {"a"}));
  g.nodes.push_back(node("pool", "GlobalAveragePool", {"a"}, {"p"}));
  g.initializers["w1"] = randomTensor({s.r, s.c, 1, 1}, rng);
  g.initializers["w2"] = randomTensor({s.c, s.r, 1, 1}, rng);
  Node c1 = node("reduce", "Conv", {"p", "w1"}, {std::string(s.act1).empty() ? "h" : "h0"});
  Node c2 = node("expand", "Conv", {"h", "w2"}, {std::string(s.act2).empty() ? "s" : "s0"});
  if (s.bias) {
    g.initializers["b1"] = randomTensor({s.r}, rng);
    g.initializers["b2"] = randomTensor({s.c}, rng, 0.f, 2.f);
    c1.inputs.push_back("b1");
    c2.inputs.push_back("b2");
  }
  if (std::string(s.spoil) == "weights-computed") {
    g.nodes.push_back(node("w1copy", "Identity", {"w1"}, {"w1i"}));
    c1.inputs[1] = "w1i";
  }
  g.nodes.push_back(c1);
  if (std::string(s.act1).size()) addAct(g, s.act1, "act1", "h0", "h");
  g.nodes.push_back(c2);
  if (std::string(s.act2).size()) addAct(g, s.act2, "act2", "s0", "s");
  std::string x = "a";
  if (std::string(s.spoil) == "other-x") {
    g.nodes.push_back(node("neg", "Neg", {"a"}, {"na"}));
    x = "na";
  }
  g.nodes.push_back(
      node("scale", "Mul", s.gateFirst ? std::vector<std::string>{"s", x} : std::vector<std::string>{x, "s"}, {"y"}));
  g.nodes.push_back(node("out", "Relu", {"y"}, {"z"}));
  ValueInfo out;
  out.name = "z";
  g.outputs = {out};
  if (std::string(s.spoil) == "gate-output") {
    ValueInfo gate;
    gate.name = "s";
    g.outputs.push_back(gate);
  }
  return g;
}

int fusedChains(const Executor& ex) { return testutil::countLines(ex.optimizationLog(), "fused squeeze-excite"); }

}  // namespace

class TestSqueezeExcite : public QObject {
  Q_OBJECT
 private slots:
  void fusedMatchesChain_data() {
    QTest::addColumn<int>("caseIndex");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("threads");
    for (int c = 0; c < 10; ++c)
      for (int batch : {1, 7, 37})
        for (int threads : {1, 2})
          QTest::newRow(qPrintable(QString("case%1 n%2 t%3").arg(c).arg(batch).arg(threads))) << c << batch << threads;
  }
  void fusedMatchesChain() {
    QFETCH(int, caseIndex);
    QFETCH(int, batch);
    QFETCH(int, threads);
    const SeCase cases[] = {
        {16, 4, 28, 28, "Relu", "HardSigmoid", true, false, ""},
        {32, 8, 14, 14, "Relu", "HardSigmoid", true, true, ""},
        {96, 24, 7, 7, "Relu", "HardSigmoid", false, false, ""},
        {5, 3, 3, 11, "LeakyRelu", "", true, true, ""},   // odd sizes, no second activation
        {17, 1, 1, 1, "", "Relu", false, false, ""},      // 1x1 planes, one hidden channel
        {40, 9, 6, 5, "Clip", "HardSwish", true, false, ""},
        {8, 2, 5, 5, "Relu", "HardSigmoid", true, false, "gate-output"},
        {8, 2, 5, 5, "Relu", "HardSigmoid", true, false, "weights-computed"},
        {8, 2, 5, 5, "Relu", "HardSigmoid", true, true, "other-x"},
        {64, 16, 7, 7, "Relu", "HardSigmoid", true, true, ""},
    };
    const SeCase& s = cases[caseIndex];
    std::mt19937 rng(static_cast<unsigned>(900 + caseIndex));
    Graph g = seGraph(s, rng);
    // Clip's bounds as initializers (opset 13).
    if (std::string(s.act1) == "Clip") {
      Tensor lo(DType::Float, {}), hi(DType::Float, {});
      lo.f()[0] = -0.5f;
      hi.f()[0] = 0.75f;
      g.initializers["lo"] = lo;
      g.initializers["hi"] = hi;
      for (auto& n : g.nodes)
        if (n.opType == "Clip") n.inputs = {n.inputs[0], "lo", "hi"};
    }
    Tensor x = randomTensor({batch, s.c, s.h, s.w}, rng, -4.f, 4.f);
    ExecutorOptions plain, fast;
    plain.threads = fast.threads = threads;
    fast.optimizeForInference = true;
    auto a = Executor::create(g, plain);
    auto b = Executor::create(g, fast);
    QVERIFY2(a.isOk(), a.isOk() ? "" : a.status().message().c_str());
    QVERIFY2(b.isOk(), b.isOk() ? "" : b.status().message().c_str());
    const bool expectFused = std::string(s.spoil).empty();
    QCOMPARE(fusedChains(*b.value()), expectFused ? 1 : 0);
    int pools = 0;
    for (size_t i = 0; i < (*b)->nodeCount(); ++i) pools += (*b)->runNode(i).opType == "GlobalAveragePool";
    QCOMPARE(pools, expectFused ? 0 : 1);
    QVERIFY((*a)->run(x).isOk());
    // Twice: the second run reuses the kernel's scratch.
    for (int pass = 0; pass < 2; ++pass) {
      QVERIFY((*b)->run(x).isOk());
      QCOMPARE((*b)->output(0).shape(), (*a)->output(0).shape());
      const double diff = testutil::maxAbsDiff((*b)->output(0), (*a)->output(0));
      QVERIFY2(diff < 2e-5, qPrintable(QString("max difference %1").arg(diff)));
    }
    // The output is not trivially zero (the comparison above means something).
    double mag = 0;
    for (int64_t i = 0; i < (*b)->output(0).numel(); ++i) mag = std::max(mag, double((*b)->output(0).f()[i]));
    QVERIFY(mag > 0.01);
  }

  // The trained demo model (real BatchNorm statistics, four squeeze-excite
  // blocks) optimised against itself run as stored, which the parity test
  // compares with ONNX Runtime; batch 1 and an uneven batch, 1 and 2 threads.
  void demoModelMatchesStored_data() {
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("threads");
    for (int batch : {1, 21})
      for (int threads : {1, 2}) QTest::newRow(qPrintable(QString("n%1 t%2").arg(batch).arg(threads))) << batch << threads;
  }
  void demoModelMatchesStored() {
    QFETCH(int, batch);
    QFETCH(int, threads);
    auto g = loadModel(testutil::sourcePath("resources/models/mobilenet-tiny.onnx"));
    QVERIFY2(g.isOk(), g.isOk() ? "" : g.status().message().c_str());
    std::mt19937 rng(77);
    Tensor x = randomTensor({batch, 1, 28, 28}, rng);
    ExecutorOptions plain, fast;
    plain.threads = fast.threads = threads;
    fast.optimizeForInference = true;
    auto a = Executor::create(g.value(), plain);
    auto b = Executor::create(g.value(), fast);
    QVERIFY(a.isOk() && b.isOk());
    QCOMPARE(fusedChains(*b.value()), 4);
    QVERIFY((*a)->run(x).isOk());
    QVERIFY((*b)->run(x).isOk());
    QCOMPARE((*b)->output(0).shape(), (*a)->output(0).shape());
    const double diff = testutil::maxAbsDiff((*b)->output(0), (*a)->output(0));
    QVERIFY2(diff < 1e-4, qPrintable(QString("max difference %1").arg(diff)));
  }
};

QTEST_APPLESS_MAIN(TestSqueezeExcite)
#include "test_squeeze_excite.moc"
