// Winograd F(4x4, 3x3) for kernel-wise 2:4 weights (kernels/winograd43_nm.h)
// against a plain double-precision convolution: channels 4..64 (also not
// multiples of 4 or 8: tail groups and partial output blocks), planes 28x28
// down to 7x7, batches 1..3, with and without bias, Relu in registers,
// LeakyRelu per plane and a fused residual. Then through the Conv operator:
// forced onto this plan, and offered only for weights with the pattern.
#include <QtTest>
#include <cmath>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "engine/winograd_test_ref.h"
#include "kernels/activation.h"
#include "kernels/kernel_choice.h"
#include "kernels/winograd43_nm.h"

using topiary::kernels::Activation;
using topiary::kernels::Winograd43NmPlan;

using wgtest::Case;
using wgtest::packedPlan;
using wgtest::randomValues;
using wgtest::reference;

namespace {

// Zeros whole kernels so that each group of 4 input channels of a filter
// keeps 2 (a tail group of len < 4 keeps min(2, len)); some kept kernels
// are zeroed too when `extraZeros` (outputs with fewer kept kernels).
void kernelWise24(std::vector<float>& w, int64_t cout, int64_t cin, std::mt19937& rng, bool extraZeros) {
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t c0 = 0; c0 < cin; c0 += 4) {
      const int64_t len = std::min<int64_t>(4, cin - c0);
      std::vector<int64_t> ch;
      for (int64_t c = c0; c < c0 + len; ++c) ch.push_back(c);
      std::shuffle(ch.begin(), ch.end(), rng);
      const size_t keep = static_cast<size_t>(std::min<int64_t>(2, len)) - (extraZeros && rng() % 5 == 0 ? 1 : 0);
      for (size_t i = keep; i < ch.size(); ++i) std::fill_n(w.begin() + (co * cin + ch[i]) * 9, 9, 0.f);
    }
}

}  // namespace

class TestWinograd43Nm : public QObject {
  Q_OBJECT
 private slots:
  void detectsThePattern() {
    std::mt19937 rng(3);
    std::vector<float> w = randomValues(16 * 12 * 9, rng, 0.1f, 1.f);
    QVERIFY(!topiary::kernels::hasKernelNmPattern(w.data(), 16, 12, 9));  // dense
    kernelWise24(w, 16, 12, rng, false);
    QVERIFY(topiary::kernels::hasKernelNmPattern(w.data(), 16, 12, 9));
    // One extra weight in a pruned kernel breaks it.
    for (int64_t ci = 0; ci < 4; ++ci)
      if (w[static_cast<size_t>(ci * 9)] == 0.f) {
        w[static_cast<size_t>(ci * 9 + 4)] = 0.5f;
        break;
      }
    QVERIFY(!topiary::kernels::hasKernelNmPattern(w.data(), 16, 12, 9));
    // A per-tap 2:4 pattern (each tap keeps 2 of 4 channels, a different pair) is not kernel-wise.
    std::vector<float> tap = randomValues(8 * 4 * 9, rng, 0.1f, 1.f);
    for (int64_t co = 0; co < 8; ++co)
      for (int64_t t = 0; t < 9; ++t)
        for (int64_t ci = 0; ci < 4; ++ci)
          if ((ci + t) % 4 >= 2) tap[static_cast<size_t>((co * 4 + ci) * 9 + t)] = 0.f;
    QVERIFY(!topiary::kernels::hasKernelNmPattern(tap.data(), 8, 4, 9));
    // Fewer input channels than a group (a stem): dense, not offered.
    std::vector<float> stem = randomValues(16 * 1 * 9, rng, 0.1f, 1.f);
    QVERIFY(!topiary::kernels::hasKernelNmPattern(stem.data(), 16, 1, 9));
  }

  void matchesReference_data() {
    QTest::addColumn<int>("shapeCase");
    QTest::addColumn<int>("fusion");  // 0 none, 1 bias + Relu, 2 bias + LeakyRelu, 3 bias + residual + Relu
    for (int s = 0; s < 8; ++s)
      for (int f = 0; f < 4; ++f) QTest::newRow(qPrintable(QString("s%1 f%2").arg(s).arg(f))) << s << f;
  }
  void matchesReference() {
    QFETCH(int, shapeCase);
    QFETCH(int, fusion);
    const Case cases[] = {
        {1, 16, 28, 28, 16, 1, 1, 1, 1},  // resnet8's first blocks, batch 1
        {3, 32, 14, 14, 32, 1, 1, 1, 1},  // the second, several images per pass
        {2, 64, 7, 7, 64, 1, 1, 1, 1},    // the third: 4 tiles per image
        {2, 4, 28, 28, 8, 1, 1, 1, 1},    // one group of 4
        {3, 6, 9, 11, 5, 1, 1, 1, 1},     // a tail group of 2, a partial output block
        {1, 13, 10, 18, 12, 2, 0, 1, 2},  // a tail group of 1, asymmetric padding
        {2, 24, 12, 12, 20, 0, 0, 0, 0},  // no padding, 20 = 8 + 8 + 4 outputs
        {3, 40, 7, 7, 19, 1, 1, 1, 1},    // 19 = 8 + 8 + 3 outputs
    };
    const Case s = cases[shapeCase];
    const int64_t Ho = s.H + s.padT + s.padB - 2, Wo = s.W + s.padL + s.padR - 2;
    std::mt19937 rng(static_cast<unsigned>(900 + 4 * shapeCase + fusion));
    const auto x = randomValues(static_cast<size_t>(s.n * s.cin * s.H * s.W), rng, -1.f, 1.f);
    auto w = randomValues(static_cast<size_t>(s.cout * s.cin * 9), rng, -0.5f, 0.5f);
    kernelWise24(w, s.cout, s.cin, rng, shapeCase % 2 == 1);
    QVERIFY(topiary::kernels::hasKernelNmPattern(w.data(), s.cout, s.cin, 9));
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

    auto pl = packedPlan<Winograd43NmPlan>(s, Ho, Wo, w);
    // Slots: the most kernels any output keeps (half the channels, rounded up per group).
    int64_t most = 0;
    for (int64_t co = 0; co < s.cout; ++co) {
      int64_t kept = 0;
      for (int64_t ci = 0; ci < s.cin; ++ci) kept += w[static_cast<size_t>((co * s.cin + ci) * 9 + 4)] != 0.f;
      most = std::max(most, kept);
    }
    QCOMPARE(pl.nmSlots, most);
    QVERIFY(pl.nmSlots <= (s.cin / 4) * 2 + std::min<int64_t>(2, s.cin % 4));
    std::vector<float> scratch(static_cast<size_t>(pl.scratchFloats()), std::nanf(""));
    std::vector<float> y(static_cast<size_t>(s.n * s.cout * Ho * Wo), -7.f);
    pl.run(x.data(), s.n, y.data(), scratch.data(), b, &act, r);

    const auto ref = reference(s, Ho, Wo, x, w, b, r, act);
    double maxRef = 0, maxDiff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      maxRef = std::max(maxRef, std::fabs(ref[i]));
      maxDiff = std::max(maxDiff, std::fabs(ref[i] - y[i]));
      QVERIFY2(std::isfinite(y[i]), qPrintable(QString("y[%1] = %2").arg(i).arg(y[i])));
    }
    QVERIFY(maxRef > 0.1);
    QVERIFY2(maxDiff <= 1e-5 * maxRef, qPrintable(QString("max diff %1, max |y| %2").arg(maxDiff).arg(maxRef)));
  }

  // The product jumps on which outputs of a block of 8 keep a channel:
  // every output keeping the same 2 channels of each group (all 8 bits set,
  // and channels no output keeps), then alternate outputs keeping
  // alternate pairs, with a partial last block (12 = 8 + 4 outputs).
  void sharedAndUnusedChannels_data() {
    QTest::addColumn<bool>("alternate");
    QTest::newRow("same pairs") << false;
    QTest::newRow("alternate pairs") << true;
  }
  void sharedAndUnusedChannels() {
    QFETCH(bool, alternate);
    const Case s{2, 12, 13, 15, 12, 1, 1, 1, 1};
    const int64_t Ho = s.H, Wo = s.W;
    std::mt19937 rng(alternate ? 31 : 30);
    const auto x = randomValues(static_cast<size_t>(s.n * s.cin * s.H * s.W), rng, -1.f, 1.f);
    auto w = randomValues(static_cast<size_t>(s.cout * s.cin * 9), rng, -0.5f, 0.5f);
    for (int64_t co = 0; co < s.cout; ++co)
      for (int64_t ci = 0; ci < s.cin; ++ci) {
        const bool low = ci % 4 < 2, keep = alternate && co % 2 == 1 ? !low : low;
        if (!keep) std::fill_n(w.begin() + (co * s.cin + ci) * 9, 9, 0.f);
      }
    QVERIFY(topiary::kernels::hasKernelNmPattern(w.data(), s.cout, s.cin, 9));
    const auto bias = randomValues(static_cast<size_t>(s.cout), rng, -0.5f, 0.5f);
    Activation act;
    act.kind = Activation::Kind::Relu;
    auto pl = packedPlan<Winograd43NmPlan>(s, Ho, Wo, w);
    QCOMPARE(pl.nmSlots, int64_t{6});
    QCOMPARE(pl.nmMasks.size(), size_t{24});                   // 2 blocks x 12 channels
    QCOMPARE(int(pl.nmMasks[0]), alternate ? 0x55 : 0xff);     // block 0, channel 0
    QCOMPARE(int(pl.nmMasks[2]), alternate ? 0xaa : 0);        // channel 2
    QCOMPARE(int(pl.nmMasks[12 + 1]), alternate ? 0x5 : 0xf);  // block 1: 4 outputs
    std::vector<float> scratch(static_cast<size_t>(pl.scratchFloats()), std::nanf(""));
    std::vector<float> y(static_cast<size_t>(s.n * s.cout * Ho * Wo), -7.f);
    pl.run(x.data(), s.n, y.data(), scratch.data(), bias.data(), &act);
    const auto ref = reference(s, Ho, Wo, x, w, bias.data(), nullptr, act);
    double maxRef = 0, maxDiff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      maxRef = std::max(maxRef, std::fabs(ref[i]));
      maxDiff = std::max(maxDiff, std::fabs(ref[i] - y[i]));
    }
    QVERIFY(maxRef > 0.1);
    QVERIFY2(maxDiff <= 1e-5 * maxRef, qPrintable(QString("max diff %1, max |y| %2").arg(maxDiff).arg(maxRef)));
  }

  // Conv with frozen weights, a fused residual and Relu on one and two
  // threads: forced onto this plan, chosen by timing, and not offered for
  // weights without the pattern. Batch 1 on two threads shares the image
  // with a helper, half the output channels each (14x14: no stripes).
  void throughConv_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<int>("threads");
    QTest::addColumn<bool>("pattern");
    QTest::addColumn<int>("batch");
    for (const char* k : {"winograd43-nm", ""})
      for (int t : {1, 2})
        for (bool p : {true, false})
          for (int n : {3, 1})
            QTest::newRow(
                qPrintable(QString("%1 t%2 %3 n%4").arg(k[0] ? k : "auto").arg(t).arg(p ? "2:4" : "tap").arg(n)))
                << k << t << p << n;
  }
  void throughConv() {
    QFETCH(QString, kernel);
    QFETCH(int, threads);
    QFETCH(bool, pattern);
    QFETCH(int, batch);
    using namespace topiary;
    // 24 outputs: halves of 8 and 16 (blocks of 8); 1.6 MFLOP per image.
    const Case s{batch, 20, 14, 14, 24, 1, 1, 1, 1};
    std::mt19937 rng(78);
    Tensor X = nntest::randomTensor({s.n, s.cin, s.H, s.W}, rng);
    Tensor W = nntest::randomTensor({s.cout, s.cin, 3, 3}, rng, -0.5f, 0.5f);
    std::vector<float> w(W.f(), W.f() + W.numel());
    if (pattern) {
      kernelWise24(w, s.cout, s.cin, rng, false);
    } else {  // per-tap 2:4: half the weights, but no whole zero kernels
      for (int64_t co = 0; co < s.cout; ++co)
        for (int64_t ci = 0; ci < s.cin; ++ci)
          for (int64_t t = 0; t < 9; ++t)
            if ((ci + t) % 4 >= 2) w[static_cast<size_t>((co * s.cin + ci) * 9 + t)] = 0.f;
    }
    std::copy(w.begin(), w.end(), W.f());
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
    const auto ref = reference(s, s.H, s.W, std::vector<float>(X.f(), X.f() + X.numel()), w, B.f(), R.f(), relu);
    for (int pass = 0; pass < 2; ++pass) {  // the second run reuses the plan
      std::string why;
      std::vector<Tensor> out = nntest::run(*k.value(), {&X, &W, &B, &R}, 1, ctx, &why);
      QVERIFY2(out.size() == 1, why.c_str());
      double maxDiff = 0;
      for (size_t i = 0; i < ref.size(); ++i)
        maxDiff = std::max(maxDiff, std::fabs(ref[i] - out[0].at(static_cast<int64_t>(i))));
      QVERIFY2(maxDiff < 1e-4, qPrintable(QString("max diff %1").arg(maxDiff)));
      const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
      const bool nm = QString::fromStdString(choice).startsWith("winograd43-nm");
      if (!kernel.isEmpty()) QVERIFY2(nm == pattern, choice.c_str());  // forced: taken only with the pattern
      if (!pattern) QVERIFY2(!nm, choice.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestWinograd43Nm)
#include "test_winograd43_nm.moc"
