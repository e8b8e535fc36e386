// FLOP counts of the operators that do arithmetic in proportion to their data
// (a multiply-add counts 2), as Kernel::flops reports them and as
// measureModel (topiary-cli info) sums them. Einsum, MeanVarianceNormalization,
// CumSum, TopK, Not and NonZero reported 0 whatever their shapes, and so did
// ScatterElements/ScatterND with a reduction.
#include <QtTest>

#include <map>
#include <string>
#include <vector>

#include "test_ops_nn_helpers.h"
#include "topiary/metrics.h"

using namespace topiary;
using nntest::build;

namespace {

double einsumFlops(const std::string& equation, const std::vector<Shape>& in, const Shape& out) {
  auto k = build("Einsum", {{"equation", Attribute::ofString(equation)}}, 12);
  if (!k) qFatal("Einsum %s: %s", equation.c_str(), k.status().message().c_str());
  return k.value()->flops(in, {out});
}

ValueInfo floatInput(const std::string& name, std::vector<int64_t> dims) {
  ValueInfo v;
  v.name = name;
  v.dtype = DType::Float;
  v.hasShape = true;
  for (int64_t d : dims) v.dims.push_back(Dim{d, ""});
  return v;
}

Node node(const std::string& name, const std::string& op, std::vector<std::string> inputs, std::string output,
          std::map<std::string, Attribute> attrs = {}) {
  Node n;
  n.name = name;
  n.opType = op;
  n.inputs = std::move(inputs);
  n.outputs = {std::move(output)};
  n.attrs = std::move(attrs);
  return n;
}

}  // namespace

class TestOpFlops : public QObject {
  Q_OBJECT

 private slots:
  void einsumCountsEveryIndexCombination() {
    auto matmul = build("MatMul");
    QVERIFY(matmul.isOk());
    // A matrix product, plain and batched, counts what MatMul counts.
    const double mm = matmul.value()->flops({{3, 4}, {4, 5}}, {{3, 5}});
    QCOMPARE(mm, 2.0 * 3 * 4 * 5);
    QCOMPARE(einsumFlops("ij,jk->ik", {{3, 4}, {4, 5}}, {3, 5}), mm);
    QCOMPARE(einsumFlops("ij,jk", {{3, 4}, {4, 5}}, {3, 5}), mm);  // implicit output
    QCOMPARE(einsumFlops("bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}, {2, 3, 5}),
             matmul.value()->flops({{2, 3, 4}, {2, 4, 5}}, {{2, 3, 5}}));
    QCOMPARE(einsumFlops("...ij,...jk->...ik", {{2, 3, 4}, {4, 5}}, {2, 3, 5}),
             matmul.value()->flops({{2, 3, 4}, {4, 5}}, {{2, 3, 5}}));
    // Attention's scores: the contraction over d.
    QCOMPARE(einsumFlops("bhid,bhjd->bhij", {{1, 2, 6, 8}, {1, 2, 7, 8}}, {1, 2, 6, 7}), 2.0 * 2 * 6 * 7 * 8);
    // Products without a sum: one multiply each; three operands: two.
    QCOMPARE(einsumFlops("ij,ij->ij", {{3, 4}, {3, 4}}, {3, 4}), 12.0);
    QCOMPARE(einsumFlops("i,j->ij", {{3}, {4}}, {3, 4}), 12.0);
    QCOMPARE(einsumFlops("ij,jk,kl->il", {{2, 3}, {3, 4}, {4, 5}}, {2, 5}), 3.0 * 2 * 3 * 4 * 5);
    // One operand: a sum costs one add per element, moving data nothing.
    QCOMPARE(einsumFlops("ij->i", {{3, 4}}, {3}), 12.0);
    QCOMPARE(einsumFlops("ii", {{5, 5}}, {}), 5.0);  // trace
    QCOMPARE(einsumFlops("ij->ji", {{3, 4}}, {4, 3}), 0.0);
    QCOMPARE(einsumFlops("ii->i", {{5, 5}}, {5}), 0.0);
    // Shapes that do not fit the equation count nothing (the run refuses them).
    QCOMPARE(einsumFlops("ij,jk->ik", {{3, 4}, {5, 6}}, {3, 6}), 0.0);
    QCOMPARE(einsumFlops("ij,jk->ik", {{3, 4, 1}, {4, 5}}, {3, 5}), 0.0);
  }

  void normalisationsCountAFewPerElement() {
    auto ln = build("LayerNormalization", {{"axis", Attribute::ofInt(-1)}}, 17);
    QVERIFY2(ln.isOk(), ln.status().message().c_str());
    QCOMPARE(ln.value()->flops({{2, 3, 8}, {8}, {8}}, {{2, 3, 8}}), 6.0 * 48);
    auto in = build("InstanceNormalization", {}, 6);
    QVERIFY2(in.isOk(), in.status().message().c_str());
    QCOMPARE(in.value()->flops({{2, 3, 4, 4}, {3}, {3}}, {{2, 3, 4, 4}}), 5.0 * 96);
    auto mvn = build("MeanVarianceNormalization", {}, 13);
    QVERIFY2(mvn.isOk(), mvn.status().message().c_str());
    QCOMPARE(mvn.value()->flops({{2, 3, 4, 4}}, {{2, 3, 4, 4}}), 5.0 * 96);
  }

  void reductionsAndScansCountPerElement() {
    auto sum = build("ReduceSum", {{"keepdims", Attribute::ofInt(1)}}, 13);
    QVERIFY2(sum.isOk(), sum.status().message().c_str());
    // One add per input element, and one per output element.
    QCOMPARE(sum.value()->flops({{4, 5}, {1}}, {{4, 1}}), 20.0 + 4.0);
    auto cumsum = build("CumSum", {}, 14);
    QVERIFY2(cumsum.isOk(), cumsum.status().message().c_str());
    QCOMPARE(cumsum.value()->flops({{4, 5}, {}}, {{4, 5}}), 20.0);
  }

  void selectionsCountComparisons() {
    auto topk = build("TopK", {{"axis", Attribute::ofInt(-1)}}, 11);
    QVERIFY2(topk.isOk(), topk.status().message().c_str());
    QCOMPARE(topk.value()->flops({{3, 64}, {1}}, {{3, 8}, {3, 8}}), 3.0 * 3 * 64);  // log2(8) per element
    QCOMPARE(topk.value()->flops({{3, 64}, {1}}, {{3, 1}, {3, 1}}), 3.0 * 64);
    auto nonzero = build("NonZero", {}, 13);
    QVERIFY(nonzero.isOk());
    QCOMPARE(nonzero.value()->flops({{4, 5}}, {{2, 7}}), 20.0);
    auto notOp = build("Not", {}, 13);
    QVERIFY(notOp.isOk());
    QCOMPARE(notOp.value()->flops({{4, 5}}, {{4, 5}}), 20.0);
  }

  void dataMovementCountsNothing() {
    auto transpose = build("Transpose", {{"perm", Attribute::ofInts({1, 0})}});
    QVERIFY(transpose.isOk());
    QCOMPARE(transpose.value()->flops({{4, 5}}, {{5, 4}}), 0.0);
    auto gather = build("Gather", {{"axis", Attribute::ofInt(0)}});
    QVERIFY(gather.isOk());
    QCOMPARE(gather.value()->flops({{4, 5}, {3}}, {{3, 5}}), 0.0);
  }

  // A scatter with a reduction combines every update element with the value
  // already there (one add, mul, max or min each); without one it only moves
  // data.
  void scatterReductionsCountPerUpdate() {
    for (const char* reduction : {"add", "mul", "max", "min"}) {
      auto elements = build("ScatterElements", {{"reduction", Attribute::ofString(reduction)}}, 18);
      QVERIFY2(elements.isOk(), elements.status().message().c_str());
      QCOMPARE(elements.value()->flops({{4, 5}, {2, 5}, {2, 5}}, {{4, 5}}), 10.0);
      auto nd = build("ScatterND", {{"reduction", Attribute::ofString(reduction)}}, 18);
      QVERIFY2(nd.isOk(), nd.status().message().c_str());
      // Three index pairs into [4,5,6]: updates [3,6].
      QCOMPARE(nd.value()->flops({{4, 5, 6}, {3, 2}, {3, 6}}, {{4, 5, 6}}), 18.0);
    }
    auto plain = build("ScatterElements", {}, 18);
    QVERIFY(plain.isOk());
    QCOMPARE(plain.value()->flops({{4, 5}, {2, 5}, {2, 5}}, {{4, 5}}), 0.0);
    auto none = build("ScatterND", {{"reduction", Attribute::ofString("none")}}, 18);
    QVERIFY2(none.isOk(), none.status().message().c_str());
    QCOMPARE(none.value()->flops({{4, 5, 6}, {3, 2}, {3, 6}}, {{4, 5, 6}}), 0.0);
    auto old = build("Scatter", {}, 10);
    QVERIFY(old.isOk());
    QCOMPARE(old.value()->flops({{4, 5}, {2, 5}, {2, 5}}, {{4, 5}}), 0.0);
  }

  // What topiary-cli info reports: measureModel's per-layer FLOPs from a run
  // at batch 1.
  void measureModelReportsThem() {
    Graph g;
    g.name = "flops";
    g.opsetImports = {{"", 17}};
    g.inputs.push_back(floatInput("x", {1, 3, 4}));
    ValueInfo y;
    y.name = "y";
    g.outputs.push_back(y);
    g.initializers["w"] = Tensor(DType::Float, Shape{4, 5});
    g.initializers["scale"] = Tensor::fromVector<float>({5}, {1, 1, 1, 1, 1});
    g.initializers["axes"] = Tensor::fromVector<int64_t>({1}, {-1});
    g.nodes.push_back(node("einsum", "Einsum", {"x", "w"}, "e", {{"equation", Attribute::ofString("bij,jk->bik")}}));
    g.nodes.push_back(node("matmul", "MatMul", {"x", "w"}, "m"));
    g.nodes.push_back(node("add", "Add", {"e", "m"}, "s"));
    g.nodes.push_back(node("ln", "LayerNormalization", {"s", "scale"}, "n", {{"axis", Attribute::ofInt(-1)}}));
    g.nodes.push_back(node("sum", "ReduceSum", {"n", "axes"}, "y"));
    QVERIFY2(g.validate().isOk(), g.validate().message().c_str());
    auto m = measureModel(g);
    QVERIFY2(m.isOk(), m.status().message().c_str());
    QVERIFY2(m->flopsUnknown.empty(), m->flopsUnknown.c_str());
    QCOMPARE(m->layers.size(), size_t(5));
    QCOMPARE(m->layers[1].flops, 2.0 * 3 * 4 * 5);  // MatMul
    QCOMPARE(m->layers[0].flops, m->layers[1].flops);
    QCOMPARE(m->layers[3].flops, 6.0 * 15);
    QCOMPARE(m->layers[4].flops, 15.0 + 3.0);
    for (const auto& l : m->layers) QVERIFY2(l.flops > 0, l.name.c_str());
  }
};

QTEST_GUILESS_MAIN(TestOpFlops)
#include "test_op_flops.moc"
