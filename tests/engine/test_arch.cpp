// Architectures: structure, parameter counts, ONNX validity, forward shapes, seeds.
#include <QtTest>

#include "arch/graph_builder.h"
#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"

using namespace topiary;

class TestArch : public QObject {
  Q_OBJECT
 private slots:
  void everyArchitectureIsValidOnnxAndRuns_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<qlonglong>("params");  // -1: not checked exactly
    QTest::newRow("lenet5") << "lenet5" << 61706LL;
    QTest::newRow("lenet5-caffe") << "lenet5-caffe" << 431080LL;
    QTest::newRow("lenet-300-100") << "lenet-300-100" << 266610LL;
    QTest::newRow("resnet8") << "resnet8" << -1LL;
    QTest::newRow("mobilenet-tiny") << "mobilenet-tiny" << -1LL;
    QTest::newRow("vgg-small") << "vgg-small" << -1LL;
  }
  void everyArchitectureIsValidOnnxAndRuns() {
    QFETCH(QString, name);
    QFETCH(qlonglong, params);
    auto g = buildArchitecture(name.toStdString());
    QVERIFY2(g.isOk(), g.status().message().c_str());
    if (params >= 0) QCOMPARE(static_cast<qlonglong>(g->paramCount()), params);
    Status st = checkModel(g.value());
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(g->opset(), int64_t(name == "mobilenet-tiny" ? 14 : 13));  // HardSwish needs 14
    QCOMPARE(g->inputs.size(), size_t(1));
    QCOMPARE(g->inputs[0].name, std::string("input"));
    QCOMPARE(g->inputs[0].dims[0].param, std::string("N"));
    QCOMPARE(g->outputs[0].name, std::string("logits"));
    auto ex = Executor::create(g.value());
    QVERIFY2(ex.isOk(), ex.status().message().c_str());
    Tensor x(DType::Float, {3, 1, 28, 28});
    for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = static_cast<float>((i * 37) % 101) / 101.f;
    st = (*ex)->run(x);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE((*ex)->output(0).shape(), (Shape{3, 10}));
    // Logits differ between samples and are finite.
    const float* y = (*ex)->output(0).f();
    for (int i = 0; i < 30; ++i) QVERIFY(std::isfinite(y[i]));
    QVERIFY(y[0] != y[10]);
    // Saves and reloads with the same weights.
    std::string path = testutil::tempDir() + "/" + name.toStdString() + ".onnx";
    QVERIFY(saveModel(g.value(), path).isOk());
    auto back = loadModel(path);
    QVERIFY2(back.isOk(), back.status().message().c_str());
    QCOMPARE(back->paramCount(), g->paramCount());
    for (const auto& kv : g->initializers) QCOMPARE(testutil::maxAbsDiff(back->initializers.at(kv.first), kv.second), 0.0);
  }

  void seedDeterminesWeights() {
    ArchOptions a, b, c;
    b.seed = 1;
    c.seed = 2;
    auto ga = buildArchitecture("resnet8", a), gb = buildArchitecture("resnet8", b), gc = buildArchitecture("resnet8", c);
    QVERIFY(ga.isOk() && gb.isOk() && gc.isOk());
    const Tensor& wa = ga->initializers.at("stem.weight");
    QCOMPARE(testutil::maxAbsDiff(wa, gb->initializers.at("stem.weight")), 0.0);
    QVERIFY(testutil::maxAbsDiff(wa, gc->initializers.at("stem.weight")) > 0.01);
    // He uniform bound sqrt(6/fanIn), fanIn = 9 for the 1-channel 3x3 stem.
    float bound = std::sqrt(6.f / 9.f), mx = 0;
    for (int64_t i = 0; i < wa.numel(); ++i) mx = std::max(mx, std::fabs(wa.at(i)));
    QVERIFY(mx <= bound);
    QVERIFY(mx > 0.5f * bound);
  }

  void structureMatchesTheDescription() {
    auto r = buildArchitecture("resnet8");
    QVERIFY(r.isOk());
    int convs = 0, bns = 0, adds = 0, strided1x1 = 0;
    for (const auto& n : r->nodes) {
      if (n.opType == "Conv") {
        ++convs;
        if (n.attrInts("kernel_shape") == std::vector<int64_t>{1, 1} && n.attrInts("strides") == std::vector<int64_t>{2, 2})
          ++strided1x1;
      }
      bns += n.opType == "BatchNormalization";
      adds += n.opType == "Add";
    }
    QCOMPARE(convs, 9);  // stem + 3 blocks x 2 + 2 projections
    QCOMPARE(bns, 9);
    QCOMPARE(adds, 3);
    QCOMPARE(strided1x1, 2);
    auto m = buildArchitecture("mobilenet-tiny");
    QVERIFY(m.isOk());
    int depthwise = 0, hardSigmoid = 0, mul = 0, hardSwish = 0, gap = 0;
    for (const auto& n : m->nodes) {
      if (n.opType == "Conv" && n.attrInt("group", 1) > 1) ++depthwise;
      hardSigmoid += n.opType == "HardSigmoid";
      mul += n.opType == "Mul";
      hardSwish += n.opType == "HardSwish";
      gap += n.opType == "GlobalAveragePool";
    }
    QCOMPARE(depthwise, 4);
    QCOMPARE(hardSigmoid, 4);
    QCOMPARE(mul, 4);
    QCOMPARE(hardSwish, 9);
    QCOMPARE(gap, 5);
  }

  void unknownNameIsBadInputListingChoices() {
    auto g = buildArchitecture("lenet6");
    QVERIFY(!g.isOk());
    QCOMPARE(g.status().kind(), ErrorKind::BadInput);
    QVERIFY(g.status().message().find("lenet6") != std::string::npos);
    QVERIFY(g.status().message().find("resnet8") != std::string::npos);
    ArchOptions tiny;
    tiny.imageSize = 4;
    QCOMPARE(buildArchitecture("lenet5", tiny).status().kind(), ErrorKind::BadInput);
  }

  void smallerImagesAndClasses() {
    ArchOptions o;
    o.imageSize = 16;
    o.classes = 4;
    o.inChannels = 3;
    for (const auto& name : architectureNames()) {
      auto g = buildArchitecture(name, o);
      QVERIFY2(g.isOk(), (name + ": " + g.status().message()).c_str());
      auto ex = Executor::create(g.value());
      QVERIFY(ex.isOk());
      Tensor x(DType::Float, {2, 3, 16, 16});
      QVERIFY2((*ex)->run(x).isOk(), name.c_str());
      QCOMPARE((*ex)->output(0).shape(), (Shape{2, 4}));
    }
  }

  void builderNamesAreUnique() {
    arch::GraphBuilder b("t", 1);
    std::string x = b.input("input", {1, 4, 4});
    std::string r1 = b.relu(x, "act");
    std::string r2 = b.relu(r1, "act");
    QVERIFY(r1 != r2);
    b.output(b.flatten(r2, "flat"), "logits", {16});
    auto g = b.finish();
    QVERIFY2(g.isOk(), g.status().message().c_str());
    QVERIFY(checkModel(g.value()).isOk());
  }
};

QTEST_GUILESS_MAIN(TestArch)
#include "test_arch.moc"
