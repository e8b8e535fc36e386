// Winograd F(4x4, 3x3) with one image shared between the calling thread and
// a helper (Winograd43Plan::runOneShared, kernels/shared_work.h): the two
// stripes of tile rows as pieces, each a whole pass, or (planes too small
// for stripes) two halves of the output channels. Every tile's arithmetic
// is the same as in run(), so the output must equal the one-thread result
// bit for bit, and both stay within fp32 rounding of a double-precision
// convolution. Shapes: batch 1, 8 .. 64 channels, 28x28 .. 32x32 (stripes
// ending inside a tile row) and 7x7 .. 14x14 (channel halves, partial
// blocks), with bias and Relu, LeakyRelu, or a residual. Then through Conv
// forced onto the plan (topiary.kernel = winograd43) on two threads, against
// one thread and the reference.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/activation.h"
#include "kernels/kernel_choice.h"
#include "kernels/shared_work.h"
#include "kernels/winograd43_conv.h"

using topiary::kernels::Activation;
using topiary::kernels::Winograd43Plan;

namespace {

struct Layer {
  int64_t cin, cout, H;  // square planes, padding 1 (outputs H x H)
};

std::vector<float> randomValues(size_t count, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(count);
  for (float& f : v) f = u(rng);
  return v;
}

// act(conv(x, w) + b + r) in double, one image, padding 1.
std::vector<double> reference(const Layer& s, const std::vector<float>& x, const std::vector<float>& w, const float* b,
                              const float* r, const Activation& act) {
  const int64_t H = s.H;
  std::vector<double> y(static_cast<size_t>(s.cout * H * H));
  for (int64_t co = 0; co < s.cout; ++co)
    for (int64_t oh = 0; oh < H; ++oh)
      for (int64_t ow = 0; ow < H; ++ow) {
        const int64_t o = (co * H + oh) * H + ow;
        double acc = (b ? b[co] : 0.0) + (r ? r[o] : 0.0);
        for (int64_t ci = 0; ci < s.cin; ++ci)
          for (int64_t kh = 0; kh < 3; ++kh)
            for (int64_t kw = 0; kw < 3; ++kw) {
              const int64_t ih = oh - 1 + kh, iw = ow - 1 + kw;
              if (ih < 0 || iw < 0 || ih >= H || iw >= H) continue;
              acc += static_cast<double>(w[static_cast<size_t>(((co * s.cin + ci) * 3 + kh) * 3 + kw)]) *
                     x[static_cast<size_t>((ci * H + ih) * H + iw)];
            }
        if (act.kind == Activation::Kind::Relu) acc = acc > 0 ? acc : 0;
        if (act.kind == Activation::Kind::LeakyRelu && acc < 0) acc *= act.alpha;
        y[static_cast<size_t>(o)] = acc;
      }
  return y;
}

// Largest |ref - y| relative to the largest |ref|; fails on non-finite y.
double relativeError(const std::vector<double>& ref, const float* y) {
  double maxRef = 0, maxDiff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(y[i])) return 1e30;
    maxRef = std::max(maxRef, std::fabs(ref[i]));
    maxDiff = std::max(maxDiff, std::fabs(ref[i] - y[i]));
  }
  return maxRef > 0.1 ? maxDiff / maxRef : 1e30;  // an all-zero output compares nothing
}

}  // namespace

class TestWinograd43Shared : public QObject {
  Q_OBJECT
 private slots:
  void sharedEqualsOneThread_data() {
    QTest::addColumn<int>("shapeCase");
    QTest::addColumn<int>("fusion");  // 0 none, 1 bias + Relu, 2 bias + LeakyRelu, 3 bias + residual + Relu
    for (int s = 0; s < 11; ++s)
      for (int f = 0; f < 4; ++f) QTest::newRow(qPrintable(QString("s%1 f%2").arg(s).arg(f))) << s << f;
  }
  void sharedEqualsOneThread() {
    QFETCH(int, shapeCase);
    QFETCH(int, fusion);
    const Layer shapes[] = {
        {16, 16, 28},  // resnet8's first blocks: stripes of 3 and 4 tile rows (21 + 28 tiles)
        {8, 24, 28},   // a partial product chunk in each stripe
        {64, 40, 28},  // 5 output blocks, 64 input channels
        {12, 17, 28},  // a partial last output block
        {16, 16, 32},  // stripes of 4 tile rows (32 + 32 tiles)
        {8, 16, 30},   // the last tile row has two output rows
        {32, 64, 29},  // and here one, 13 output rows in the second stripe
        {32, 32, 14},  // resnet8's block2_conv2: channel halves of 16
        {64, 64, 7},   // block3: 4 tiles, halves of 32
        {16, 24, 14},  // halves of 8 and 16 output channels
        {8, 17, 12},   // 8 and 9, the last block partial
    };
    const Layer s = shapes[shapeCase];
    const int64_t P = s.H * s.H;
    std::mt19937 rng(static_cast<unsigned>(900 + 4 * shapeCase + fusion));
    const auto x = randomValues(static_cast<size_t>(s.cin * P), rng, -1.f, 1.f);
    const auto w = randomValues(static_cast<size_t>(s.cout * s.cin * 9), rng, -0.5f, 0.5f);
    const auto bias = randomValues(static_cast<size_t>(s.cout), rng, -0.5f, 0.5f);
    const auto res = randomValues(static_cast<size_t>(s.cout * P), rng, -2.f, 2.f);
    Activation act;
    if (fusion == 1 || fusion == 3) act.kind = Activation::Kind::Relu;
    if (fusion == 2) {
      act.kind = Activation::Kind::LeakyRelu;
      act.alpha = 0.1f;
    }
    const float* b = fusion ? bias.data() : nullptr;
    const float* r = fusion == 3 ? res.data() : nullptr;

    Winograd43Plan pl;
    pl.cin = s.cin;
    pl.cout = s.cout;
    pl.H = pl.W = pl.Ho = pl.Wo = s.H;
    pl.padT = pl.padL = 1;
    pl.init();
    pl.pack(w.data());
    QVERIFY(pl.sharable());
    QCOMPARE(pl.stripes(), shapeCase < 7);
    std::vector<float> scratch(static_cast<size_t>(pl.scratchFloats()), std::nanf(""));
    std::vector<float> one(static_cast<size_t>(s.cout * P), -7.f);
    pl.run(x.data(), 1, one.data(), scratch.data(), b, &act, r);
    // Scratch filled with NaN: any value read before it is written shows up.
    std::vector<float> shared(static_cast<size_t>(topiary::kernels::kSharedSlots * pl.scratchFloats()), std::nanf(""));
    const auto ref = reference(s, x, w, b, r, act);
    for (int rep = 0; rep < 20; ++rep) {  // the helper takes a different share of the pieces each time
      std::vector<float> y(one.size(), -7.f);
      pl.runOneShared(x.data(), y.data(), shared.data(), b, &act, r);
      QVERIFY2(std::memcmp(y.data(), one.data(), y.size() * sizeof(float)) == 0,
               qPrintable(QString("rep %1: shared differs from one thread").arg(rep)));
      const double err = relativeError(ref, y.data());
      QVERIFY2(err <= 1e-5, qPrintable(QString("rep %1: relative error %2").arg(rep).arg(err)));
    }
  }

  // Two stripes would cost more 16-tile vectors than the whole: no stripes,
  // and the image is shared by output channels when there are two blocks.
  void noStripes() {
    for (int64_t H : {7, 8, 12, 14, 16})
      for (int64_t cout : {8, 9, 16}) {
        Winograd43Plan pl;
        pl.cin = 16;
        pl.cout = cout;
        pl.H = pl.W = pl.Ho = pl.Wo = H;
        pl.padT = pl.padL = 1;
        pl.init();
        QVERIFY2(!pl.stripes(), qPrintable(QString("%1x%1").arg(H)));
        QCOMPARE(pl.sharable(), cout >= 16);
      }
  }

  // Conv forced onto the plan, batch 1 with a fused residual and Relu, on
  // two threads (the shared path from kSharedMinFlops: stripes for 28x28 and
  // 32x32, channel halves for 14x14 and 7x7) against one thread; later runs
  // reuse the plan and scratch.
  void throughConv_data() {
    QTest::addColumn<int>("shapeCase");
    for (int s = 0; s < 4; ++s) QTest::newRow(qPrintable(QString("s%1").arg(s))) << s;
  }
  void throughConv() {
    QFETCH(int, shapeCase);
    using namespace topiary;
    // Stripes, then channel halves.
    const Layer shapes[] = {{16, 16, 28}, {16, 16, 32}, {32, 32, 14}, {64, 64, 7}};
    const Layer s = shapes[shapeCase];
    std::mt19937 rng(static_cast<unsigned>(31 + shapeCase));
    Tensor X = nntest::randomTensor({1, s.cin, s.H, s.H}, rng);
    Tensor W = nntest::randomTensor({s.cout, s.cin, 3, 3}, rng, -0.5f, 0.5f);
    Tensor B = nntest::randomTensor({s.cout}, rng);
    Tensor R = nntest::randomTensor({1, s.cout, s.H, s.H}, rng, -2.f, 2.f);
    std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                           {"topiary.residual", Attribute::ofInt(1)},
                                           {"topiary.act", Attribute::ofString("Relu")},
                                           {"topiary.kernel", Attribute::ofString("winograd43")},
                                           {"pads", Attribute::ofInts({1, 1, 1, 1})}};
    Activation relu;
    relu.kind = Activation::Kind::Relu;
    const auto ref = reference(s, std::vector<float>(X.f(), X.f() + X.numel()),
                               std::vector<float>(W.f(), W.f() + W.numel()), B.f(), R.f(), relu);
    std::vector<float> first;
    for (int threads : {1, 2}) {
      auto k = nntest::build("Conv", attrs);
      QVERIFY2(k.isOk(), k.isOk() ? "" : k.status().message().c_str());
      RunContext ctx;
      ctx.threads = threads;
      for (int pass = 0; pass < 3; ++pass) {
        std::string why;
        std::vector<Tensor> out = nntest::run(*k.value(), {&X, &W, &B, &R}, 1, ctx, &why);
        QVERIFY2(out.size() == 1, why.c_str());
        const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
        QVERIFY2(QString::fromStdString(choice).startsWith("winograd43"), choice.c_str());
        const double err = relativeError(ref, out[0].f());
        QVERIFY2(err <= 1e-5, qPrintable(QString("t%1 pass %2: relative error %3").arg(threads).arg(pass).arg(err)));
        if (first.empty()) first.assign(out[0].f(), out[0].f() + out[0].numel());
        QVERIFY2(std::memcmp(first.data(), out[0].f(), first.size() * sizeof(float)) == 0,
                 qPrintable(QString("t%1 pass %2 differs from one thread").arg(threads).arg(pass)));
      }
    }
  }
};

QTEST_APPLESS_MAIN(TestWinograd43Shared)
#include "test_winograd43_shared.moc"
