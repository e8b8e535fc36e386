// The direct Conv kernel (kernels/direct_conv.h, forced with topiary.kernel =
// "direct") where it writes its output straight to y with bias and activation
// applied in its registers (rows with no extra columns: 1x1 stride 1; planes
// of a multiple of 16 values, and others whose last vector per channel is
// clipped) and where it does not (padded 3x3: applied while the wide rows are
// compacted), against a plain double-precision loop; output channel counts
// that leave partial blocks of 8, one and two threads.
#include <QtTest>
#include <algorithm>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/kernel_choice.h"

using namespace topiary;
using namespace nntest;

namespace {

double act(const std::string& a, double x) {
  if (a == "Relu") return x > 0 ? x : 0;
  if (a == "HardSwish") return x * std::min(std::max(x / 6 + 0.5, 0.0), 1.0);
  return x;
}

Tensor refConv(const Tensor& X, const Tensor& W, const Tensor* B, int64_t pad, const std::string& a) {
  const int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), Wd = X.dim(3), Co = W.dim(0), K = W.dim(2);
  const int64_t Ho = H + 2 * pad - K + 1, Wo = Wd + 2 * pad - K + 1;
  Tensor Y(DType::Float, {N, Co, Ho, Wo});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double s = B ? B->at(co) : 0.0;
          for (int64_t ci = 0; ci < C; ++ci)
            for (int64_t kh = 0; kh < K; ++kh)
              for (int64_t kw = 0; kw < K; ++kw) {
                const int64_t ih = oh - pad + kh, iw = ow - pad + kw;
                if (ih >= 0 && iw >= 0 && ih < H && iw < Wd)
                  s += double(W.at(((co * C + ci) * K + kh) * K + kw)) * X.at(((n * C + ci) * H + ih) * Wd + iw);
              }
          Y.at(((n * Co + co) * Ho + oh) * Wo + ow) = static_cast<float>(act(a, s));
        }
  return Y;
}

}  // namespace

class TestDirectEpilogue : public QObject {
  Q_OBJECT
 private slots:
  void directMatchesReference_data() {
    QTest::addColumn<int>("shapeCase");
    QTest::addColumn<QString>("act");
    QTest::addColumn<bool>("bias");
    QTest::addColumn<int>("threads");
    for (int s = 0; s < 7; ++s)
      for (const char* a : {"", "Relu", "HardSwish"})
        for (bool b : {false, true})
          for (int t : {1, 2})
            QTest::newRow(qPrintable(QString("s%1 %2 %3 t%4").arg(s).arg(a[0] ? a : "none").arg(b ? "bias" : "nobias").arg(t)))
                << s << QString(a) << b << t;
  }
  void directMatchesReference() {
    QFETCH(int, shapeCase);
    QFETCH(QString, act);
    QFETCH(bool, bias);
    QFETCH(int, threads);
    struct Shp {
      int64_t n, c, h, w, co, k, pad;
    };
    // Straight to y: 1x1 on 28x28 (784 = 49 vectors), 8x8, 4x12 (48); with a
    // clipped last vector: 1x1 on 7x7 (49), 5x5 (25), 14x14 (196); compacted:
    // 3x3 padded on 8x8.
    const Shp cases[] = {{3, 16, 28, 28, 13, 1, 0}, {2, 9, 8, 8, 20, 1, 0}, {3, 5, 4, 12, 8, 1, 0},
                         {2, 12, 7, 7, 17, 1, 0},   {2, 6, 8, 8, 11, 3, 1}, {1, 3, 5, 5, 7, 1, 0},
                         {3, 32, 14, 14, 9, 1, 0}};
    const Shp s = cases[shapeCase];
    std::mt19937 rng(static_cast<unsigned>(300 + shapeCase));
    Tensor X = randomTensor({s.n, s.c, s.h, s.w}, rng, -2.f, 2.f);
    Tensor W = randomTensor({s.co, s.c, s.k, s.k}, rng);
    Tensor B = randomTensor({s.co}, rng);
    std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                           {"topiary.kernel", Attribute::ofString("direct")},
                                           {"pads", Attribute::ofInts({s.pad, s.pad, s.pad, s.pad})}};
    if (!act.isEmpty()) attrs["topiary.act"] = Attribute::ofString(act.toStdString());
    auto kern = build("Conv", attrs);
    QVERIFY2(kern.isOk(), kern.isOk() ? "" : kern.status().message().c_str());
    RunContext ctx;
    ctx.threads = threads;
    const Tensor ref = refConv(X, W, bias ? &B : nullptr, s.pad, act.toStdString());
    std::vector<const Tensor*> in{&X, &W};
    if (bias) in.push_back(&B);
    for (int pass = 0; pass < 2; ++pass) {
      std::string why;
      std::vector<Tensor> out = run(*kern.value(), in, 1, ctx, &why);
      QVERIFY2(out.size() == 1, why.c_str());
      const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*kern.value()).kernelChoice();
      QVERIFY2(choice.rfind("direct", 0) == 0, choice.c_str());
      const double diff = testutil::maxAbsDiff(out[0], ref);
      QVERIFY2(diff < 1e-4, qPrintable(QString("diff %1").arg(diff)));
    }
  }
};

QTEST_APPLESS_MAIN(TestDirectEpilogue)
#include "test_direct_epilogue.moc"
