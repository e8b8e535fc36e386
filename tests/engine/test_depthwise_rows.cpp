// The channel-interleaved depthwise kernel (kernels/depthwise_conv.h, forced
// with topiary.kernel = "direct") against a plain double-precision loop on
// every output width from 1 to 17 (groups of 8 outputs for 3x3 and of 4 for
// 5x5, then one shorter group), 3x3 and 5x5 taps, strides 1 and 2, a partial 16-channel block,
// padding 0 to 2, with and without a fused activation, one and two threads;
// and the same for the sparse kernel (kernels/depthwise_sparse.h, "csr").
#include <QtTest>
#include <algorithm>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/kernel_choice.h"

using namespace topiary;
using namespace nntest;

namespace {

Tensor refDepthwise(const Tensor& X, const Tensor& W, const Tensor& B, int64_t stride, int64_t pad, bool hardSwish) {
  const int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), Wd = X.dim(3), K = W.dim(2);
  const int64_t Ho = (H + 2 * pad - K) / stride + 1, Wo = (Wd + 2 * pad - K) / stride + 1;
  Tensor Y(DType::Float, {N, C, Ho, Wo});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double s = B.at(c);
          for (int64_t kh = 0; kh < K; ++kh)
            for (int64_t kw = 0; kw < K; ++kw) {
              const int64_t ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
              if (ih >= 0 && iw >= 0 && ih < H && iw < Wd)
                s += double(W.at((c * K + kh) * K + kw)) * X.at(((n * C + c) * H + ih) * Wd + iw);
            }
          if (hardSwish) s *= std::min(std::max(s / 6 + 0.5, 0.0), 1.0);
          Y.at(((n * C + c) * Ho + oh) * Wo + ow) = static_cast<float>(s);
        }
  return Y;
}

// X through a depthwise Conv forced onto `kernel`, twice (the second run
// reuses the packed weights and scratch), against refDepthwise; the kernel
// choice must start with `expected`. `what` is added to a failure's message.
void checkForced(const char* kernel, const std::string& expected, const Tensor& X, const Tensor& W, const Tensor& B,
                 int64_t stride, int64_t pad, bool hardSwish, int threads, int64_t wo, const QString& what = {}) {
  std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                         {"topiary.kernel", Attribute::ofString(kernel)},
                                         {"group", Attribute::ofInt(X.dim(1))},
                                         {"strides", Attribute::ofInts({stride, stride})},
                                         {"pads", Attribute::ofInts({pad, pad, pad, pad})}};
  if (hardSwish) attrs["topiary.act"] = Attribute::ofString("HardSwish");
  auto kern = build("Conv", attrs);
  QVERIFY2(kern.isOk(), kern.isOk() ? "" : kern.status().message().c_str());
  RunContext ctx;
  ctx.threads = threads;
  const Tensor ref = refDepthwise(X, W, B, stride, pad, hardSwish);
  QCOMPARE(ref.dim(3), wo);
  for (int pass = 0; pass < 2; ++pass) {
    std::string why;
    std::vector<Tensor> out = run(*kern.value(), {&X, &W, &B}, 1, ctx, &why);
    QVERIFY2(out.size() == 1, why.c_str());
    const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*kern.value()).kernelChoice();
    QVERIFY2(choice.rfind(expected, 0) == 0, choice.c_str());
    const double diff = testutil::maxAbsDiff(out[0], ref);
    QVERIFY2(diff < 1e-5, qPrintable(QString("diff %1 %2").arg(diff).arg(what)));
  }
}

}  // namespace

class TestDepthwiseRows : public QObject {
  Q_OBJECT
 private slots:
  void interleavedMatchesReference_data() {
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("wo");
    QTest::addColumn<int>("threads");
    for (int k : {3, 5})
      for (int stride : {1, 2})
        for (int wo = 1; wo <= 17; ++wo)
          for (int threads : {1, 2})
            QTest::newRow(qPrintable(QString("k%1 s%2 wo%3 t%4").arg(k).arg(stride).arg(wo).arg(threads)))
                << k << stride << wo << threads;
  }
  void interleavedMatchesReference() {
    QFETCH(int, k);
    QFETCH(int, stride);
    QFETCH(int, wo);
    QFETCH(int, threads);
    std::mt19937 rng(static_cast<unsigned>(k * 1000 + stride * 100 + wo));
    const int64_t c = wo % 2 ? 19 : 16, n = 3;
    // Input width giving `wo` outputs (padding lowered until it is at least 1); the height differs from it.
    int64_t pad = wo % 3;
    auto inWidth = [&] { return (wo - 1) * stride + k - 2 * pad + (wo % 2 ? 0 : stride - 1); };
    while (inWidth() < 1) --pad;
    const int64_t w = inWidth();
    const int64_t h = std::max<int64_t>(w + 1, k);
    QVERIFY(w >= 1);
    Tensor X = randomTensor({n, c, h, w}, rng);
    Tensor W = randomTensor({c, 1, k, k}, rng);
    Tensor B = randomTensor({c}, rng);
    checkForced("direct", "dw-interleaved", X, W, B, stride, pad, wo % 2 == 0, threads, wo);
  }

  // The sparse kernel (kernels/depthwise_sparse.h, forced with "csr") on the
  // same widths and a 130-wide row (a 128-output chunk and a second one of
  // 2): stride 1 (whole and masked vectors), 2 (two-vector
  // de-interleave, last input read masked) and 3 (scalar), padding up to 2
  // (taps that read only padding for some rows or columns), sparsity from
  // none to every weight zero (planes of act(bias) alone). Stride 1 with
  // same padding (k3 pad 1: wo 1, 7, 16, 28, 130; k5 pad 2: wo 2, 14, 17)
  // runs the plane as one flat row, vectors spanning output rows.
  void sparseMatchesReference_data() {
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("stride");
    QTest::addColumn<int>("wo");
    QTest::addColumn<double>("sparsity");
    QTest::addColumn<int>("threads");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("images");
    for (int k : {3, 5})
      for (int stride : {1, 2, 3})
        for (int wo : {1, 2, 7, 8, 14, 15, 16, 17, 28, 33, 130})
          for (double sparsity : {0.0, 0.9, 1.0}) {
            const int threads = wo % 3 == 0 || wo % 4 == 0 ? 2 : 1;
            QTest::newRow(
                qPrintable(QString("k%1 s%2 wo%3 sp%4 t%5").arg(k).arg(stride).arg(wo).arg(sparsity).arg(threads)))
                << k << stride << wo << sparsity << threads << (wo % 2 ? 19 : 16) << 3;
          }
    // One image with enough work (4 MFLOP) for two threads: its channels are split between them.
    QTest::newRow("one image, channels split") << 5 << 1 << 48 << 0.5 << 2 << 48 << 1;
    QTest::newRow("one image, flat plane, channels split") << 5 << 1 << 50 << 0.5 << 2 << 48 << 1;
  }
  void sparseMatchesReference() {
    QFETCH(int, k);
    QFETCH(int, stride);
    QFETCH(int, wo);
    QFETCH(double, sparsity);
    QFETCH(int, threads);
    QFETCH(int, channels);
    QFETCH(int, images);
    std::mt19937 rng(static_cast<unsigned>(k * 1000 + stride * 100 + wo + int(sparsity * 10)));
    const int64_t c = channels, n = images;
    int64_t pad = wo % 3;
    auto inWidth = [&] { return (wo - 1) * stride + k - 2 * pad; };
    while (inWidth() < 1) --pad;
    const int64_t w = inWidth(), h = std::max<int64_t>(w + 1, k);
    Tensor X = randomTensor({n, c, h, w}, rng);
    Tensor W = randomTensor({c, 1, k, k}, rng);
    Tensor B = randomTensor({c}, rng);
    std::bernoulli_distribution drop(sparsity);
    int64_t kept = 0;
    for (int64_t i = 0; i < W.numel(); ++i)
      if (drop(rng))
        W.at(i) = 0.f;
      else
        ++kept;
    checkForced("csr", "dw-sparse", X, W, B, stride, pad, wo % 2 == 0, threads, wo,
                QString("(%1 of %2 weights kept)").arg(kept).arg(W.numel()));
  }
};

QTEST_APPLESS_MAIN(TestDepthwiseRows)
#include "test_depthwise_rows.moc"
