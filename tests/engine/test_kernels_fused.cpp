// Conv with a fused residual (topiary.residual: Y = act(conv(X) + B + R))
// on every kernel path against a plain reference, on odd batch sizes,
// strides, padding and plane sizes, one and two threads. The Winograd,
// co-vector and csr-direct paths add the residual themselves; the others
// after the product.
#include <QtTest>
#include <cmath>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/activation.h"
#include "kernels/kernel_choice.h"

using namespace topiary;
using namespace nntest;

namespace {

double refAct(const std::string& act, double x) {
  if (act == "Relu") return x > 0 ? x : 0;
  if (act == "HardSwish") return x * std::min(std::max(x / 6 + 0.5, 0.0), 1.0);
  return x;
}

// act(conv(X, W, stride, pad) + B + R), groups = 1.
Tensor refConvResidual(const Tensor& X, const Tensor& W, const Tensor& B, const Tensor& R, int64_t stride, int64_t pad,
                       const std::string& act) {
  const int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), Wd = X.dim(3), Co = W.dim(0), K = W.dim(2);
  const int64_t Ho = (H + 2 * pad - K) / stride + 1, Wo = (Wd + 2 * pad - K) / stride + 1;
  Tensor Y(DType::Float, {N, Co, Ho, Wo});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const int64_t o = ((n * Co + co) * Ho + oh) * Wo + ow;
          double s = static_cast<double>(B.at(co)) + R.at(o);
          for (int64_t ci = 0; ci < C; ++ci)
            for (int64_t kh = 0; kh < K; ++kh)
              for (int64_t kw = 0; kw < K; ++kw) {
                const int64_t ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                if (ih < 0 || iw < 0 || ih >= H || iw >= Wd) continue;
                s += static_cast<double>(W.at(((co * C + ci) * K + kh) * K + kw)) *
                     X.at(((n * C + ci) * H + ih) * Wd + iw);
              }
          Y.at(o) = static_cast<float>(refAct(act, s));
        }
  return Y;
}

}  // namespace

class TestKernelsFused : public QObject {
  Q_OBJECT
 private slots:
  void convResidual_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<QString>("act");
    QTest::addColumn<int>("shapeCase");
    QTest::addColumn<int>("threads");
    const char* acts[] = {"Relu", "", "HardSwish"};
    int row = 0;
    for (int shape = 0; shape < 9; ++shape)
      for (const char* k : {"dense", "direct", "winograd", "co-vector", "csr-direct", "csr-pw", ""})  // "" = timed
        for (int threads : {1, 2}) {
          const char* act = acts[row++ % 3];
          QTest::newRow(qPrintable(
              QString("s%1 %2 %3 t%4").arg(shape).arg(k[0] ? k : "auto").arg(act[0] ? act : "none").arg(threads)))
              << QString(k) << QString(act) << shape << threads;
        }
  }
  void convResidual() {
    QFETCH(QString, kernel);
    QFETCH(QString, act);
    QFETCH(int, shapeCase);
    QFETCH(int, threads);
    struct Shp {
      int64_t n, c, h, co, k, stride, pad;
    };
    // 3x3 stride 1 (Winograd: odd and even planes, a partial channel block,
    // several images per pass), 3x3 stride 2, 1x1, a batch of one, 1x1
    // stride 2 and more than 64 output channels (co-vector: two blocks).
    const Shp cases[] = {{3, 5, 9, 7, 3, 1, 1},
                         {5, 16, 7, 24, 3, 1, 1},
                         {2, 4, 28, 16, 3, 1, 1},
                         {3, 6, 13, 10, 3, 2, 1},
                         {7, 12, 7, 9, 1, 1, 0},
                         {1, 8, 14, 16, 3, 1, 1},
                         {3, 5, 14, 70, 1, 2, 0},
                         // One image with enough work to share its rows with a helper thread.
                         {1, 16, 28, 32, 3, 1, 1},
                         {1, 32, 27, 48, 3, 2, 1}};
    const Shp s = cases[shapeCase];
    std::mt19937 rng(static_cast<unsigned>(500 + shapeCase));
    const int64_t ho = (s.h + 2 * s.pad - s.k) / s.stride + 1;
    Tensor X = randomTensor({s.n, s.c, s.h, s.h}, rng);
    Tensor W = randomTensor({s.co, s.c, s.k, s.k}, rng);
    Tensor B = randomTensor({s.co}, rng);
    if (kernel == "csr-direct" ||
        kernel == "csr-pw")  // sparse weights; 1x1 layers write the product straight to y and add R after
      for (int64_t i = 0; i < W.numel(); ++i)
        if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.8) W.at(i) = 0.f;
    Tensor R = randomTensor({s.n, s.co, ho, ho}, rng, -2.f, 2.f);
    std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                           {"topiary.residual", Attribute::ofInt(1)},
                                           {"strides", Attribute::ofInts({s.stride, s.stride})},
                                           {"pads", Attribute::ofInts({s.pad, s.pad, s.pad, s.pad})}};
    if (!kernel.isEmpty()) attrs["topiary.kernel"] = Attribute::ofString(kernel.toStdString());
    if (!act.isEmpty()) attrs["topiary.act"] = Attribute::ofString(act.toStdString());
    auto k = build("Conv", attrs);
    QVERIFY2(k.isOk(), k.isOk() ? "" : k.status().message().c_str());
    RunContext ctx;
    ctx.threads = threads;
    const Tensor ref = refConvResidual(X, W, B, R, s.stride, s.pad, act.toStdString());
    // Twice: the second run reuses the plans and scratch of the first.
    for (int pass = 0; pass < 2; ++pass) {
      std::string why;
      std::vector<Tensor> out = run(*k.value(), {&X, &W, &B, &R}, 1, ctx, &why);
      QVERIFY2(out.size() == 1, why.c_str());
      const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
      const double diff = testutil::maxAbsDiff(out[0], ref);
      QVERIFY2(diff < 1e-4, qPrintable(QString("choice %1, diff %2").arg(QString::fromStdString(choice)).arg(diff)));
      const bool winogradApplies = s.k == 3 && s.stride == 1;
      // csr-direct on weights that happen to be 2:4 reports "2:4-direct".
      const QString c = QString::fromStdString(choice);
      const bool pointwise = s.k == 1 && s.stride == 1 && s.pad == 0;
      if (!kernel.isEmpty() && (kernel != "winograd" || winogradApplies) && (kernel != "csr-pw" || pointwise))
        QVERIFY2(kernel == "csr-direct" ? c.contains("-direct") : c.startsWith(kernel), choice.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestKernelsFused)
#include "test_kernels_fused.moc"
