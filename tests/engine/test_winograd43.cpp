// Winograd F(4x4, 3x3) (kernels/winograd43_conv.h) against a plain
// double-precision convolution: odd and non-square planes, asymmetric and
// no padding, channel counts that are not multiples of 8 or 16, batches
// that span several passes, with and without bias, with an activation in
// registers (Relu), per plane (LeakyRelu) and after a fused residual. The
// error bound is relative to the largest output: the transforms scale
// values by up to 5 and 1/24, so fp32 rounding, not a wrong tap, is all
// that may remain. Then the same through the Conv operator with the plan
// forced (topiary.kernel = winograd43) and timed against the others.
#include <QtTest>
#include <cmath>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/activation.h"
#include "kernels/kernel_choice.h"
#include "engine/winograd_test_ref.h"
#include "kernels/winograd43_conv.h"

using topiary::kernels::Activation;
using topiary::kernels::Winograd43Plan;

using wgtest::Case;
using wgtest::packedPlan;
using wgtest::randomValues;
using wgtest::reference;

class TestWinograd43 : public QObject {
  Q_OBJECT
 private slots:
  void matchesReference_data() {
    QTest::addColumn<int>("shapeCase");
    QTest::addColumn<int>("fusion");  // 0 none, 1 bias + Relu, 2 bias + LeakyRelu, 3 bias + residual + Relu
    for (int s = 0; s < 9; ++s)
      for (int f = 0; f < 4; ++f) QTest::newRow(qPrintable(QString("s%1 f%2").arg(s).arg(f))) << s << f;
  }
  void matchesReference() {
    QFETCH(int, shapeCase);
    QFETCH(int, fusion);
    const Case cases[] = {
        {9, 5, 9, 11, 7, 1, 1, 1, 1},     // odd, non-square; more images than one pass holds
        {10, 16, 7, 7, 24, 1, 1, 1, 1},   // 7x7 (one partial tile per row), three channel blocks
        {2, 16, 28, 28, 16, 1, 1, 1, 1},  // resnet8's first blocks
        {5, 3, 14, 14, 9, 1, 1, 1, 1},    // 14x14: the last tile row and column half used
        {3, 12, 6, 13, 17, 0, 0, 0, 0},   // no padding: 4x11 outputs
        {1, 20, 10, 18, 10, 2, 0, 1, 2},  // asymmetric padding, one image
        {2, 4, 37, 45, 8, 1, 1, 1, 1},    // rows longer than one 64-float split
        {4, 33, 5, 3, 1, 1, 1, 1, 1},     // one output channel, tiny plane
        {2, 3, 6, 70, 5, 1, 1, 1, 1},     // rows of 18 tiles: split 64 columns at a time
    };
    const Case s = cases[shapeCase];
    const int64_t Ho = s.H + s.padT + s.padB - 2, Wo = s.W + s.padL + s.padR - 2;
    std::mt19937 rng(static_cast<unsigned>(700 + 4 * shapeCase + fusion));
    const auto x = randomValues(static_cast<size_t>(s.n * s.cin * s.H * s.W), rng, -1.f, 1.f);
    const auto w = randomValues(static_cast<size_t>(s.cout * s.cin * 9), rng, -0.5f, 0.5f);
    const auto bias = randomValues(static_cast<size_t>(s.cout), rng, -0.5f, 0.5f);
    const auto res = randomValues(static_cast<size_t>(s.n * s.cout * Ho * Wo), rng, -2.f, 2.f);
    Activation act;
    if (fusion == 1 || fusion == 3) act.kind = Activation::Kind::Relu;
    if (fusion == 2) {
      act.kind = Activation::Kind::LeakyRelu;
      act.alpha = 0.1f;
    }
    const float* b = fusion ? bias.data() : nullptr;
    const float* r = fusion == 3 ? res.data() : nullptr;

    auto pl = packedPlan<Winograd43Plan>(s, Ho, Wo, w);
    // Scratch filled with NaN: any value read before it is written shows up.
    std::vector<float> scratch(static_cast<size_t>(pl.scratchFloats()), std::nanf(""));
    std::vector<float> y(static_cast<size_t>(s.n * s.cout * Ho * Wo), -7.f);
    pl.run(x.data(), s.n, y.data(), scratch.data(), b, &act, r);

    const auto ref = reference(s, Ho, Wo, x, w, b, r, act);
    double maxRef = 0, maxDiff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      maxRef = std::max(maxRef, std::fabs(ref[i]));
      maxDiff = std::max(maxDiff, std::fabs(ref[i] - y[i]));  // NaN fails below
      QVERIFY2(std::isfinite(y[i]), qPrintable(QString("y[%1] = %2").arg(i).arg(y[i])));
    }
    QVERIFY(maxRef > 0.1);  // the check below compares something
    QVERIFY2(maxDiff <= 1e-5 * maxRef, qPrintable(QString("max diff %1, max |y| %2").arg(maxDiff).arg(maxRef)));
    qDebug("max diff %.3g relative to max |y| %.3g: %.2g", maxDiff, maxRef, maxDiff / maxRef);
  }

  // Conv with frozen weights, a fused residual and Relu, on one and two
  // threads; forced onto this plan, then with the kernel chosen by timing.
  void throughConv_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<int>("threads");
    for (const char* k : {"winograd43", ""})
      for (int t : {1, 2}) QTest::newRow(qPrintable(QString("%1 t%2").arg(k[0] ? k : "auto").arg(t))) << k << t;
  }
  void throughConv() {
    QFETCH(QString, kernel);
    QFETCH(int, threads);
    using namespace topiary;
    const Case s{5, 16, 14, 14, 24, 1, 1, 1, 1};
    std::mt19937 rng(77);
    Tensor X = nntest::randomTensor({s.n, s.cin, s.H, s.W}, rng);
    Tensor W = nntest::randomTensor({s.cout, s.cin, 3, 3}, rng, -0.5f, 0.5f);
    Tensor B = nntest::randomTensor({s.cout}, rng);
    Tensor R = nntest::randomTensor({s.n, s.cout, s.H, s.W}, rng, -2.f, 2.f);
    std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                           {"topiary.residual", Attribute::ofInt(1)},
                                           {"topiary.act", Attribute::ofString("Relu")},
                                           {"pads", Attribute::ofInts({1, 1, 1, 1})}};
    if (!kernel.isEmpty()) attrs["topiary.kernel"] = Attribute::ofString(kernel.toStdString());
    auto k = nntest::build("Conv", attrs);
    QVERIFY2(k.isOk(), k.isOk() ? "" : k.status().message().c_str());
    RunContext ctx;
    ctx.threads = threads;
    Activation relu;
    relu.kind = Activation::Kind::Relu;
    const auto ref = reference(s, s.H, s.W, std::vector<float>(X.f(), X.f() + X.numel()),
                               std::vector<float>(W.f(), W.f() + W.numel()), B.f(), R.f(), relu);
    for (int pass = 0; pass < 2; ++pass) {  // the second run reuses the plan
      std::string why;
      std::vector<Tensor> out = nntest::run(*k.value(), {&X, &W, &B, &R}, 1, ctx, &why);
      QVERIFY2(out.size() == 1, why.c_str());
      double maxDiff = 0;
      for (size_t i = 0; i < ref.size(); ++i)
        maxDiff = std::max(maxDiff, std::fabs(ref[i] - out[0].at(static_cast<int64_t>(i))));
      QVERIFY2(maxDiff < 1e-4, qPrintable(QString("max diff %1").arg(maxDiff)));
      const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
      if (!kernel.isEmpty()) QVERIFY2(QString::fromStdString(choice).startsWith(kernel), choice.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestWinograd43)
#include "test_winograd43.moc"
