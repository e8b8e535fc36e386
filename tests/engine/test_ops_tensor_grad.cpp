// Backward passes of the tensor-manipulation operators, checked by central
// finite differences of a random linear loss, plus FLOP counts (zero: these
// operators only move data) and a run of the family's conformance cases.
#include <QtTest>

#include <filesystem>
#include <regex>

#include "common/test_util.h"
#include "engine/test_ops_tensor_common.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"

using namespace topiary;
using namespace tensortest;

namespace {
constexpr double kTol = 1e-4;
}

class TestOpsTensorGrad : public QObject {
  Q_OBJECT
 private slots:
  void reshapeFamilyPassesGradientThrough() {
    std::mt19937 rng(11);
    Tensor x = randomTensor(rng, {2, 3, 4});
    QVERIFY(gradientError("Reshape", {}, {x, ints({4, -1})}, {0}, 1, 14) < kTol);
    QVERIFY(gradientError("Flatten", {{"axis", Attribute::ofInt(2)}}, {x}, {0}) < kTol);
    Tensor y = randomTensor(rng, {3, 1, 4});
    QVERIFY(gradientError("Squeeze", {}, {y, ints({1})}, {0}, 1, 13) < kTol);
    QVERIFY(gradientError("Squeeze", {{"axes", Attribute::ofInts({1})}}, {y}, {0}, 1, 11) < kTol);
    QVERIFY(gradientError("Unsqueeze", {}, {x, ints({0, 4})}, {0}, 1, 13) < kTol);
    // The shape input gets a zero gradient of its own shape.
    auto k = buildOp("Reshape", {}, 2, 1, 14);
    QVERIFY(k.isOk());
    Tensor shape = ints({-1}), out, gx, gshape;
    RunContext ctx;
    QVERIFY(k.value()->forward({&x, &shape}, {&out}, ctx).isOk());
    Tensor g = randomTensor(rng, out.shape());
    QVERIFY(k.value()->backward({&x, &shape}, {&out}, {&g}, {&gx, &gshape}, ctx).isOk());
    QCOMPARE(gx.shape(), x.shape());
    QCOMPARE(gx.at(5), g.at(5));
    QCOMPARE(gshape.shape(), shape.shape());
    QCOMPARE(gshape.at(0), 0.f);
  }

  void transposeGradientIsTheInversePermutation() {
    std::mt19937 rng(12);
    Tensor x = randomTensor(rng, {2, 3, 4, 2});
    for (auto perm : {std::vector<int64_t>{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}})
      QVERIFY2(gradientError("Transpose", {{"perm", Attribute::ofInts(perm)}}, {x}, {0}) < kTol,
               shapeToString(perm).c_str());
    QVERIFY(gradientError("Transpose", {}, {x}, {0}) < kTol);
  }

  void concatAndSplitGradientsAreEachOthersForward() {
    std::mt19937 rng(13);
    for (int axis : {0, 1, -1}) {
      Shape a = {2, 3, 4}, b = a, c = a;
      size_t ax = static_cast<size_t>(axis < 0 ? 2 : axis);
      b[ax] = 1;
      c[ax] = 3;
      QVERIFY(gradientError("Concat", {{"axis", Attribute::ofInt(axis)}},
                            {randomTensor(rng, a), randomTensor(rng, b), randomTensor(rng, c)}, {0, 1, 2}) < kTol);
      // Only some inputs asking for a gradient is fine too.
      QVERIFY(gradientError("Concat", {{"axis", Attribute::ofInt(axis)}}, {randomTensor(rng, a), randomTensor(rng, c)},
                            {1}) < kTol);
    }
    Tensor x = randomTensor(rng, {4, 6});
    QVERIFY(gradientError("Split", {{"axis", Attribute::ofInt(1)}}, {x, ints({1, 2, 3})}, {0}, 3, 13) < kTol);
    QVERIFY(gradientError("Split", {{"split", Attribute::ofInts({3, 1})}}, {x}, {0}, 2, 11) < kTol);
    // An output without a gradient contributes zeros.
    QVERIFY(gradientError("Split", {{"axis", Attribute::ofInt(1)}}, {x}, {0}, 3, 13, {1}) < kTol);
  }

  void sliceGradientScattersIntoZeros() {
    std::mt19937 rng(14);
    Tensor x = randomTensor(rng, {5, 4, 3});
    struct Case { std::vector<int64_t> starts, ends, axes, steps; };
    const Case cases[] = {{{1}, {4}, {0}, {1}},
                          {{-1, 0}, {-6, 10}, {0, 2}, {-2, 2}},
                          {{3, 2, 0}, {0, 100, 3}, {1, 0, 2}, {-1, 1, 2}},
                          {{0}, {0}, {1}, {1}}};  // empty window: all-zero gradient
    for (const auto& c : cases)
      QVERIFY(gradientError("Slice", {}, {x, ints(c.starts), ints(c.ends), ints(c.axes), ints(c.steps)}, {0}, 1, 13) < kTol);
    QVERIFY(gradientError("Slice", {{"starts", Attribute::ofInts({1, 1})}, {"ends", Attribute::ofInts({3, -1})}}, {x}, {0},
                          1, 9) < kTol);
  }

  void gatherGradientAccumulatesRepeatedIndices() {
    std::mt19937 rng(15);
    Tensor x = randomTensor(rng, {4, 3, 2});
    Tensor repeated = Tensor::fromVector<int64_t>({2, 3}, {0, 2, 0, -1, 2, 2});
    for (int axis : {0, 1, -1}) {
      Tensor idx = axis == 0 ? repeated : Tensor::fromVector<int64_t>({3}, {1, 1, -2});
      QVERIFY2(gradientError("Gather", {{"axis", Attribute::ofInt(axis)}}, {x, idx}, {0}, 1, 13) < kTol,
               std::to_string(axis).c_str());
    }
    // Explicit values: gradient of row 0 is the sum of the two picks of row 0.
    auto k = buildOp("Gather", {}, 2, 1, 13);
    Tensor data = randomTensor(rng, {3, 2}), idx = ints({0, 2, 0}), out, gx;
    RunContext ctx;
    QVERIFY(k.value()->forward({&data, &idx}, {&out}, ctx).isOk());
    Tensor g = Tensor::fromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6});
    QVERIFY(k.value()->backward({&data, &idx}, {&out}, {&g}, {&gx, nullptr}, ctx).isOk());
    QCOMPARE(gx.toDoubles(), (std::vector<double>{6, 8, 0, 0, 3, 4}));
  }

  void dataMovesCostNoFlops() {
    for (const char* op : {"Reshape", "Transpose", "Concat", "Slice", "Gather", "Expand", "Tile", "Squeeze"}) {
      auto k = buildOp(op, {{"axis", Attribute::ofInt(0)}}, 2, 1, 13);
      QVERIFY2(k.isOk(), op);
      QCOMPARE(k.value()->flops({{8, 8}, {2}}, {{8, 8}}), 0.0);
    }
  }

  // The family's ONNX backend cases (the conformance runner covers them too;
  // this keeps a failure visible next to the kernels).
  void officialCasesOfTheFamilyPass() {
    namespace fs = std::filesystem;
    const std::regex mine("^test_(reshape|transpose|concat|split|slice|squeeze|unsqueeze|shape|gather_|gather_elements|"
                          "constant|constantofshape|expand|tile|range|size|flatten)");
    int passed = 0;
    for (const auto& e : fs::directory_iterator(fs::path(testutil::kOnnxTestData) / "node")) {
      std::string name = e.path().filename().string();
      if (!std::regex_search(name, mine) || name.find("expanded") != std::string::npos || name == "test_constant_pad")
        continue;
      auto g = loadModel((e.path() / "model.onnx").string());
      QVERIFY2(g.isOk(), (name + ": " + g.status().message()).c_str());
      auto ex = Executor::create(g.value());
      QVERIFY2(ex.isOk(), (name + ": " + ex.status().message()).c_str());
      std::vector<NamedTensor> ins;
      for (size_t i = 0; i < g->inputs.size(); ++i) {
        auto t = loadTensorProto((e.path() / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb")).string());
        QVERIFY2(t.isOk(), name.c_str());
        ins.push_back(std::move(t.value()));
      }
      std::vector<std::pair<std::string, const Tensor*>> feed;
      for (size_t i = 0; i < ins.size(); ++i) feed.emplace_back(g->inputs[i].name, &ins[i].tensor);
      Status st = (*ex)->run(feed);
      QVERIFY2(st.isOk(), (name + ": " + st.message()).c_str());
      for (size_t k = 0; k < (*ex)->outputCount(); ++k) {
        auto want = loadTensorProto((e.path() / "test_data_set_0" / ("output_" + std::to_string(k) + ".pb")).string());
        QVERIFY2(want.isOk(), name.c_str());
        std::string why;
        QVERIFY2(testutil::allClose((*ex)->output(k), want->tensor, 1e-3, 1e-5, &why), (name + ": " + why).c_str());
        QCOMPARE((*ex)->output(k).dtype(), want->tensor.dtype());
      }
      ++passed;
    }
    QVERIFY2(passed >= 90, std::to_string(passed).c_str());
  }
};

QTEST_GUILESS_MAIN(TestOpsTensorGrad)
#include "test_ops_tensor_grad.moc"
