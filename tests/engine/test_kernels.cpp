// Every fast path of the dense and sparse kernels against a plain reference:
// the CSR and N:M products, Conv (im2col + GEMM, 1x1, depthwise, grouped) and
// Gemm with frozen weights run dense, CSR or 2:4, with fused bias and
// activations; and the inference optimiser (BatchNorm folding, activation
// fusion) on whole architectures against the graph run as stored.
#include <QtTest>
#include <cmath>
#include <iterator>
#include <random>
#include <set>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/activation.h"
#include "kernels/kernel_choice.h"
#include "kernels/sparse_matrix.h"
#include "kernels/sparse_window.h"
#include "kernels/vec.h"
#include "topiary/arch.h"
#include "topiary/executor.h"
#include "topiary/kernel_tune_cache.h"

using namespace topiary;
using namespace nntest;

namespace {

// Zeroes a fraction of the entries at random.
void pruneRandom(Tensor& w, double sparsity, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t i = 0; i < w.numel(); ++i)
    if (u(rng) < sparsity) w.at(i) = 0.f;
}

// Keeps the 2 largest of every 4 consecutive entries along the last axes
// (rows of `cols` entries).
void prune24(Tensor& w, int64_t cols) {
  for (int64_t r = 0; r < w.numel() / cols; ++r)
    for (int64_t g = 0; g < cols; g += 4) {
      int64_t end = std::min<int64_t>(cols, g + 4);
      std::vector<int64_t> idx;
      for (int64_t k = g; k < end; ++k) idx.push_back(r * cols + k);
      std::sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return std::fabs(w.at(a)) > std::fabs(w.at(b)); });
      for (size_t i = 2; i < idx.size(); ++i) w.at(idx[i]) = 0.f;
    }
}

double refActivation(const std::string& act, double x) {
  if (act == "Relu") return x > 0 ? x : 0;
  if (act == "LeakyRelu") return x >= 0 ? x : 0.1 * x;
  if (act == "Clip") return std::min(std::max(x, -0.5), 0.5);
  if (act == "HardSigmoid") return std::min(std::max(0.2 * x + 0.5, 0.0), 1.0);
  if (act == "HardSwish") return x * std::min(std::max(x / 6 + 0.5, 0.0), 1.0);
  return x;
}

kernels::Activation activationFor(const std::string& act) {
  using K = kernels::Activation::Kind;
  if (act == "Relu") return {K::Relu, 0, 0};
  if (act == "LeakyRelu") return {K::LeakyRelu, 0.1f, 0};
  if (act == "Clip") return {K::Clip, -0.5f, 0.5f};
  if (act == "HardSigmoid") return {K::HardSigmoid, 0.2f, 0.5f};
  if (act == "HardSwish") return {K::HardSwish, 0, 0};
  return {};
}

// Plain 2-D convolution (groups, stride, symmetric pad), bias, activation.
Tensor refConv2d(const Tensor& X, const Tensor& W, const Tensor* B, int64_t group, int64_t stride, int64_t pad,
                 int64_t dil, const std::string& act) {
  const int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), Wd = X.dim(3);
  const int64_t Co = W.dim(0), Cg = W.dim(1), K = W.dim(2), coG = Co / group;
  const int64_t ext = (K - 1) * dil + 1;
  const int64_t Ho = (H + 2 * pad - ext) / stride + 1, Wo = (Wd + 2 * pad - ext) / stride + 1;
  Tensor Y(DType::Float, {N, Co, Ho, Wo});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double s = B ? B->at(co) : 0.0;
          for (int64_t cl = 0; cl < Cg; ++cl)
            for (int64_t kh = 0; kh < K; ++kh)
              for (int64_t kw = 0; kw < K; ++kw) {
                int64_t ih = oh * stride - pad + kh * dil, iw = ow * stride - pad + kw * dil;
                if (ih < 0 || iw < 0 || ih >= H || iw >= Wd) continue;
                int64_t ci = (co / coG) * Cg + cl;
                s += static_cast<double>(W.at(((co * Cg + cl) * K + kh) * K + kw)) *
                     X.at(((n * C + ci) * H + ih) * Wd + iw);
              }
          Y.at(((n * Co + co) * Ho + oh) * Wo + ow) = static_cast<float>(refActivation(act, s));
        }
  return Y;
}

// Runs the registry's Conv/Gemm with internal attributes on inputs.
Tensor runKernel(const std::string& op, std::map<std::string, Attribute> attrs, const std::vector<const Tensor*>& in,
                 int threads, std::string* choice = nullptr) {
  auto k = build(op, std::move(attrs));
  if (!k) {
    qWarning("%s", k.status().message().c_str());
    return {};
  }
  RunContext ctx;
  ctx.threads = threads;
  std::string why;
  std::vector<Tensor> out = run(*k.value(), in, 1, ctx, &why);
  if (out.empty()) {
    qWarning("%s", why.c_str());
    return {};
  }
  if (choice) *choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
  return out[0];
}

std::map<std::string, Attribute> fastAttrs(const std::string& kernel, const std::string& act) {
  std::map<std::string, Attribute> a{{"topiary.frozen", Attribute::ofInt(1)}};
  if (!kernel.empty()) a["topiary.kernel"] = Attribute::ofString(kernel);
  Node n;
  activationFor(act).toNode(n);
  for (auto& kv : n.attrs) a[kv.first] = kv.second;
  return a;
}

}  // namespace

class TestKernels : public QObject {
  Q_OBJECT
 private slots:
  // The short-copy helpers of kernels/vec.h that im2col and the direct
  // kernels share: exact values, nothing written past the last output, and
  // (input sized exactly, so ASan sees an overread) nothing read past the
  // last input, for every length around the 16-wide vector steps.
  void copyHelpers() {
    for (int64_t n = 0; n <= 50; ++n) {
      std::vector<float> src(static_cast<size_t>(std::max<int64_t>(1, 2 * n - 1)));
      for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) + 0.5f;
      std::vector<float> dst(static_cast<size_t>(n + 20), -7.f);
      kernels::copyStride2(src.data(), dst.data(), n);
      for (int64_t i = 0; i < n; ++i) QCOMPARE(dst[static_cast<size_t>(i)], src[static_cast<size_t>(2 * i)]);
      for (size_t i = static_cast<size_t>(n); i < dst.size(); ++i) QCOMPARE(dst[i], -7.f);
      std::vector<float> row(src.begin(), src.begin() + n);  // exactly n floats
      std::fill(dst.begin(), dst.end(), -7.f);
      kernels::copyShort(row.data(), dst.data(), n);
      for (int64_t i = 0; i < n; ++i) QCOMPARE(dst[static_cast<size_t>(i)], row[static_cast<size_t>(i)]);
      for (size_t i = static_cast<size_t>(n); i < dst.size(); ++i) QCOMPARE(dst[i], -7.f);
      if (n <= 16) {
        const kernels::v16 v = kernels::loadPrefix(row.data(), n);
        for (int j = 0; j < 16; ++j) QCOMPARE(v[j], j < n ? row[static_cast<size_t>(j)] : 0.f);
      }
      for (int64_t k = 0; k <= std::min<int64_t>(n, 16); ++k) {
        std::fill(dst.begin(), dst.end(), -7.f);
        kernels::v16 v;
        for (int j = 0; j < 16; ++j) v[j] = static_cast<float>(j + 1);
        kernels::storePrefix(dst.data(), v, k);
        for (int64_t i = 0; i < k; ++i) QCOMPARE(dst[static_cast<size_t>(i)], static_cast<float>(i + 1));
        QCOMPARE(dst[static_cast<size_t>(k)], -7.f);
      }
    }
  }

  // CSR and N:M products against a triple loop, including row strides wider
  // than n and n around the 16/64-wide vector blocks.
  void sparseProducts() {
    std::mt19937 rng(7);
    for (int64_t rows : {1, 5, 16}) {
      for (int64_t cols : {3, 8, 37}) {
        for (int64_t n : {1, 15, 16, 17, 64, 100, 131}) {
          const int64_t ldx = n + 3, ldy = n + 5;
          Tensor w = randomTensor({rows, cols}, rng);
          Tensor x = randomTensor({cols, ldx}, rng);
          for (int pattern = 0; pattern < 2; ++pattern) {
            Tensor wp = w;
            if (pattern == 0)
              pruneRandom(wp, 0.8, rng);
            else
              prune24(wp, cols);
            std::vector<double> ref(static_cast<size_t>(rows * n), 0.0);
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t k = 0; k < cols; ++k)
                for (int64_t j = 0; j < n; ++j)
                  ref[static_cast<size_t>(r * n + j)] += static_cast<double>(wp.at(r * cols + k)) * x.at(k * ldx + j);
            std::vector<float> y(static_cast<size_t>(rows * ldy), 99.f);
            kernels::CsrMatrix csr = kernels::CsrMatrix::fromDense(wp.f(), rows, cols);
            kernels::csrTimesDense(csr, x.f(), n, ldx, y.data(), ldy, 0, rows);
            double err = 0;
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t j = 0; j < n; ++j)
                err =
                    std::max(err, std::fabs(y[static_cast<size_t>(r * ldy + j)] - ref[static_cast<size_t>(r * n + j)]));
            QVERIFY2(err < 1e-4, qPrintable(QString("csr %1x%2 n=%3: error %4").arg(rows).arg(cols).arg(n).arg(err)));
            QCOMPARE(y[static_cast<size_t>(ldy - 1)], 99.f);  // padding between rows untouched
            kernels::NmMatrix nm;
            bool ok = kernels::NmMatrix::fromDense(wp.f(), rows, cols, 2, 4, nm);
            QCOMPARE(ok, pattern == 1 || kernels::hasNmPattern(wp.f(), rows, cols, 2, 4));
            if (!ok) continue;
            std::fill(y.begin(), y.end(), 99.f);
            kernels::nmTimesDense(nm, x.f(), n, ldx, y.data(), ldy, 0, rows);
            err = 0;
            for (int64_t r = 0; r < rows; ++r)
              for (int64_t j = 0; j < n; ++j)
                err =
                    std::max(err, std::fabs(y[static_cast<size_t>(r * ldy + j)] - ref[static_cast<size_t>(r * n + j)]));
            QVERIFY2(err < 1e-4, qPrintable(QString("2:4 %1x%2 n=%3: error %4").arg(rows).arg(cols).arg(n).arg(err)));
          }
        }
      }
    }
  }

  // The windowed sparse matrix-vector form (kernels/sparse_window.h) against
  // a double loop: partial windows and blocks, empty and full rows, 1..6
  // rows of A; it adds to Y, writes only outputs < N, and reads A only up
  // to each row's K (A with lda == K is allocated to the byte, for ASan).
  void sparseWindow() {
    std::mt19937 rng(11);
    const int64_t shapes[][2] = {{1, 1}, {5, 16}, {16, 17}, {21, 37}, {33, 64}, {40, 100}, {17, 250}};
    for (const auto& shape : shapes)
      for (double keep : {0.0, 0.1, 0.5, 1.0})
        for (int64_t M : {1, 2, 3, 5, 6})
          for (int64_t pad : {0, 3}) {
            const int64_t N = shape[0], K = shape[1], lda = K + pad, ldy = N + 2;
            Tensor w = randomTensor({N, K}, rng);
            pruneRandom(w, 1.0 - keep, rng);
            if (N > 2)  // one output with no weight at all
              for (int64_t k = 0; k < K; ++k) w.at(K + k) = 0.f;
            std::vector<float> a(static_cast<size_t>(M * lda));
            std::uniform_real_distribution<float> u(-1.f, 1.f);
            for (float& v : a) v = u(rng);
            std::vector<float> y(static_cast<size_t>(M * ldy)), y0;
            for (float& v : y) v = u(rng);
            y0 = y;
            const auto plan = kernels::SparseWindowPlan::build(w.f(), N, K);
            QCOMPARE(plan.blocks, (N + 15) / 16);
            QCOMPARE(static_cast<int64_t>(plan.output.size()), N);
            std::vector<float> yScalar = y;
            plan.run(a.data(), lda, M, y.data(), ldy, 0, plan.blocks);
            plan.runScalar(a.data(), lda, M, yScalar.data(), ldy, 0, plan.blocks);
            double err = 0, errScalar = 0;
            for (int64_t m = 0; m < M; ++m) {
              for (int64_t n = 0; n < N; ++n) {
                double ref = y0[static_cast<size_t>(m * ldy + n)];
                for (int64_t k = 0; k < K; ++k)
                  ref += static_cast<double>(w.at(n * K + k)) * a[static_cast<size_t>(m * lda + k)];
                err = std::max(err, std::fabs(y[static_cast<size_t>(m * ldy + n)] - ref));
                errScalar = std::max(errScalar, std::fabs(yScalar[static_cast<size_t>(m * ldy + n)] - ref));
              }
              for (int64_t n = N; n < ldy; ++n) {  // past N: untouched
                QCOMPARE(y[static_cast<size_t>(m * ldy + n)], y0[static_cast<size_t>(m * ldy + n)]);
                QCOMPARE(yScalar[static_cast<size_t>(m * ldy + n)], y0[static_cast<size_t>(m * ldy + n)]);
              }
            }
            const QString what = QString("%1x%2 keep %3 M=%4 pad %5").arg(N).arg(K).arg(keep).arg(M).arg(pad);
            QVERIFY2(err < 1e-4, qPrintable(what + QString(": error %1").arg(err)));
            QVERIFY2(errScalar < 1e-4, qPrintable(what + QString(": scalar error %1").arg(errScalar)));
            if (keep == 0.0) QCOMPARE(plan.slotCount(), int64_t(0));
          }
    // The layout itself: outputs ordered by their counts (fullest first),
    // a block's slots per window = its fullest output's nonzeros there, no
    // tile for an empty window.
    const int64_t N = 3, K = 100;
    std::vector<float> w(static_cast<size_t>(N * K), 0.f);
    for (int64_t k : {1, 2, 3, 33}) w[static_cast<size_t>(k)] = 1.f;  // output 0: 3 in window 0, 1 in window 1
    w[static_cast<size_t>(2 * K + 5)] = 2.f;                          // output 2: 1 in window 0
    const auto plan = kernels::SparseWindowPlan::build(w.data(), N, K);
    QCOMPARE(plan.output, (std::vector<int32_t>{0, 2, 1}));
    QCOMPARE(plan.tileWindow, (std::vector<int32_t>{0, 1}));
    QCOMPARE(plan.slotStart, (std::vector<int64_t>{0, 3, 4}));
    QCOMPARE(plan.values[17], 0.f);  // output 2 (lane 1) has one nonzero: its second slot is padding
    QCOMPARE(plan.values[1], 2.f);
    QCOMPARE(int(plan.offsets[1]), 5);
    QCOMPARE(int(plan.offsets[2 * 16]), 3);  // output 0's third nonzero in window 0
  }

  void conv_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<QString>("act");
    QTest::addColumn<int>("shapeCase");
    QTest::addColumn<int>("threads");
    const char* kernelsList[] = {"dense",    "direct",    "csr",    "2:4", "csr-direct",
                                 "winograd", "co-vector", "csr-pw", ""};  // "" = timed choice
    const char* acts[] = {"", "Relu", "LeakyRelu", "Clip", "HardSigmoid", "HardSwish"};
    int row = 0;
    for (int shape = 0; shape < 28; ++shape)
      for (const char* k : kernelsList)
        for (int threads : {1, 2}) {
          const char* act = acts[row++ % 6];
          QTest::newRow(qPrintable(
              QString("s%1 %2 %3 t%4").arg(shape).arg(k[0] ? k : "auto").arg(act[0] ? act : "none").arg(threads)))
              << QString(k) << QString(act) << shape << threads;
        }
  }
  // Conv with frozen weights on each kernel path against refConv2d. Shapes:
  // 5x5 padded, 3x3 strided, 1x1 (plain GEMM), grouped, depthwise, dilated,
  // depthwise with 2 outputs per channel, 5x5 stride 3, then depthwise cases
  // for the channel-interleaved kernel ("direct" forces it, "dense" the
  // per-plane one).
  void conv() {
    QFETCH(QString, kernel);
    QFETCH(QString, act);
    QFETCH(int, shapeCase);
    QFETCH(int, threads);
    struct Shp {
      int64_t n, c, h, co, k, stride, pad, group, dil;
    };
    const Shp cases[] = {{3, 2, 12, 6, 5, 1, 2, 1, 1},
                         {2, 5, 9, 7, 3, 2, 1, 1, 1},
                         {4, 8, 7, 12, 1, 1, 0, 1, 1},
                         {2, 6, 8, 4, 3, 1, 1, 2, 1},
                         {3, 8, 10, 8, 3, 2, 1, 8, 1},
                         {2, 3, 11, 19, 3, 1, 2, 1, 2},
                         {2, 4, 9, 8, 3, 1, 1, 4, 1},
                         {2, 3, 13, 10, 5, 3, 2, 1, 1},
                         // Depthwise on the channel-interleaved kernel: a partial 16-channel
                         // block, 5x5 stride 2, dilated (its generic row).
                         {2, 19, 9, 19, 3, 1, 1, 19, 1},
                         {2, 20, 8, 20, 5, 2, 2, 20, 1},
                         {1, 17, 10, 17, 3, 1, 2, 17, 2},
                         // 3x3 stride 1 (Winograd applies): odd output and a partial channel block,
                         // several images per pass, no padding.
                         {2, 5, 9, 7, 3, 1, 1, 1, 1},
                         {3, 16, 7, 24, 3, 1, 1, 1, 1},
                         {2, 3, 6, 9, 3, 1, 0, 1, 1},
                         // Rows of 15 and more (whole-vector row copies), stride 2 on a wide input.
                         {2, 3, 17, 9, 3, 1, 1, 1, 1},
                         {2, 4, 37, 8, 3, 2, 1, 1, 1},
                         // One image with enough work for co-vector to share its rows with a helper thread.
                         {1, 16, 28, 24, 3, 1, 1, 1, 1},
                         // ... or, with an odd number of rows up to 7, its output-channel halves
                         // (stride 1 and 2, 64 and 32 outputs).
                         {1, 32, 7, 64, 3, 1, 1, 1, 1},
                         {1, 32, 14, 64, 3, 2, 1, 1, 1},
                         {1, 128, 5, 32, 3, 1, 1, 1, 1},
                         // 1x1 stride 2 (resnet8's projections): im2col's vector stride-2 copy, with the
                         // row's last input unread (28 wide) and a 17-output row (33 wide, padded).
                         {2, 6, 28, 12, 1, 2, 0, 1, 1},
                         {3, 5, 33, 7, 1, 2, 1, 1, 1},
                         // Every tap in one stride phase, so the direct kernels store only that
                         // phase plane: 1x1 stride 3 (the per-element phase scatter) and 3x3 with
                         // dilation 2 at stride 2 (taps 2 apart, all on even rows and columns).
                         {2, 3, 14, 5, 1, 3, 1, 1, 1},
                         {2, 4, 15, 6, 3, 2, 2, 1, 2},
                         // 1x1 stride 1 for the sparse pointwise kernel: 121 pixels (7 whole vectors
                         // and 9 lanes), and one image with enough work to split its outputs over
                         // two threads (784 pixels: 6 chunks of 128 and one of 16).
                         {3, 5, 11, 9, 1, 1, 0, 1, 1},
                         {1, 64, 28, 64, 1, 1, 0, 1, 1},
                         // ... and with 2:4 weights, so every input plane is read often enough to
                         // be copied to 64-byte aligned planes first: 49 pixels (two images), 196
                         // (one image, outputs over two threads, each with its own copy).
                         {2, 8, 7, 24, 1, 1, 0, 1, 1},
                         {1, 12, 14, 32, 1, 1, 0, 1, 1}};
    const Shp s = cases[shapeCase];
    std::mt19937 rng(static_cast<unsigned>(100 + shapeCase));
    Tensor X = randomTensor({s.n, s.c, s.h, s.h}, rng);
    Tensor W = randomTensor({s.co, s.c / s.group, s.k, s.k}, rng);
    Tensor B = randomTensor({s.co}, rng);
    if (kernel == "2:4" || (kernel == "csr-pw" && shapeCase >= 26))
      prune24(W, W.numel() / s.co);
    else if (kernel == "csr" || kernel == "csr-direct" || kernel == "csr-pw" || kernel.isEmpty())
      pruneRandom(W, 0.85, rng);
    auto attrs = fastAttrs(kernel.toStdString(), act.toStdString());
    attrs["strides"] = Attribute::ofInts({s.stride, s.stride});
    attrs["pads"] = Attribute::ofInts({s.pad, s.pad, s.pad, s.pad});
    attrs["group"] = Attribute::ofInt(s.group);
    attrs["dilations"] = Attribute::ofInts({s.dil, s.dil});
    std::string choice;
    // Twice: the second run reuses the sparse form and scratch buffers.
    Tensor Y = runKernel("Conv", attrs, {&X, &W, &B}, threads, &choice);
    Tensor ref = refConv2d(X, W, &B, s.group, s.stride, s.pad, s.dil, act.toStdString());
    QVERIFY2(testutil::maxAbsDiff(Y, ref) < 1e-4,
             qPrintable(
                 QString("choice %1, diff %2").arg(QString::fromStdString(choice)).arg(testutil::maxAbsDiff(Y, ref))));
    // Every case is 2-D, so every path applies without groups; csr-direct on
    // weights that happen to be 2:4 reports "2:4-direct".
    const QString c = QString::fromStdString(choice);
    const bool winograd = s.group == 1 && s.k == 3 && s.stride == 1 && s.dil == 1;
    const bool coVector = s.stride <= 2, pointwise = s.k == 1 && s.stride == 1 && s.pad == 0;
    if (s.group == 1 && !kernel.isEmpty() && (kernel != "winograd" || winograd) &&
        (kernel != "co-vector" || coVector) && (kernel != "csr-pw" || pointwise))
      QVERIFY2(kernel == "csr-direct" ? c.contains("-direct") : c.startsWith(kernel), choice.c_str());
    if (s.group == s.c && s.co == s.c && (kernel == "direct" || kernel == "dense"))
      QCOMPARE(c, QString(kernel == "direct" ? "dw-interleaved" : "dw-plane"));
    if (s.group == s.c && s.co == s.c && kernel == "csr") QVERIFY2(c.startsWith("dw-sparse"), choice.c_str());
  }

  void gemm_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("transB");
    for (const char* k : {"dense", "csr", "csr-window", ""})
      for (int batch : {1, 7, 64})
        for (int tb : {0, 1})
          QTest::newRow(qPrintable(QString("%1 b%2 tB%3").arg(k[0] ? k : "auto").arg(batch).arg(tb)))
              << QString(k) << batch << tb;
  }
  // Gemm (bias, alpha 0.5, fused Relu) on each kernel path against a loop.
  void gemm() {
    QFETCH(QString, kernel);
    QFETCH(int, batch);
    QFETCH(int, transB);
    std::mt19937 rng(static_cast<unsigned>(batch * 3 + transB));
    const int64_t K = 37, Nout = 21;
    Tensor A = randomTensor({batch, K}, rng);
    Tensor Bw = randomTensor(transB ? Shape{Nout, K} : Shape{K, Nout}, rng);
    Tensor C = randomTensor({Nout}, rng);
    if (kernel != "dense") pruneRandom(Bw, 0.9, rng);
    auto attrs = fastAttrs(kernel.toStdString(), "Relu");
    attrs["transB"] = Attribute::ofInt(transB);
    attrs["alpha"] = Attribute::ofFloat(0.5f);
    std::string choice;
    Tensor Y = runKernel("Gemm", attrs, {&A, &Bw, &C}, 2, &choice);
    QCOMPARE(Y.shape(), (Shape{batch, Nout}));
    double err = 0;
    for (int64_t i = 0; i < batch; ++i)
      for (int64_t j = 0; j < Nout; ++j) {
        double s = C.at(j);
        for (int64_t k = 0; k < K; ++k) s += 0.5 * A.at(i * K + k) * (transB ? Bw.at(j * K + k) : Bw.at(k * Nout + j));
        err = std::max(err, std::fabs(Y.at(i * Nout + j) - refActivation("Relu", s)));
      }
    QVERIFY2(err < 1e-4, qPrintable(QString("choice %1, error %2").arg(QString::fromStdString(choice)).arg(err)));
    if (!kernel.isEmpty()) QVERIFY2(QString::fromStdString(choice).startsWith(kernel), choice.c_str());
  }

  // A timed Gemm with sparse weights is timed again for each class of row
  // counts (1; 2 to 8, where the windowed form is a candidate; more), each
  // class keyed apart in the tune cache, and never keeps the windowed form
  // past 8 rows; every run matches the loop.
  void gemmRowClasses() {
    std::mt19937 rng(29);
    const int64_t K = 64, Nout = 40;
    Tensor Bw = randomTensor({Nout, K}, rng), C = randomTensor({Nout}, rng);
    pruneRandom(Bw, 0.9, rng);
    auto attrs = fastAttrs("", "Relu");
    attrs["transB"] = Attribute::ofInt(1);
    auto k = build("Gemm", attrs);
    QVERIFY(k.isOk());
    KernelTuneCache cache;
    RunContext ctx;
    ctx.threads = 1;
    ctx.tuneCache = &cache;
    const int64_t rows[] = {4, 32, 1, 8, 9, 4};
    const size_t entries[] = {1, 2, 3, 3, 3, 3};  // 8 shares 4's class, 9 shares 32's
    for (size_t r = 0; r < std::size(rows); ++r) {
      const int64_t M = rows[r];
      Tensor A = randomTensor({M, K}, rng);
      std::vector<Tensor> out = run(*k.value(), {&A, &Bw, &C}, 1, ctx);
      QCOMPARE(out.size(), size_t(1));
      double err = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < Nout; ++j) {
          double s = C.at(j);
          for (int64_t q = 0; q < K; ++q) s += A.at(i * K + q) * Bw.at(j * K + q);
          err = std::max(err, std::fabs(out[0].at(i * Nout + j) - refActivation("Relu", s)));
        }
      QVERIFY2(err < 1e-4, qPrintable(QString("%1 rows: error %2").arg(M).arg(err)));
      QCOMPARE(cache.size(), entries[r]);
      const auto* kc = dynamic_cast<const kernels::KernelChoice*>(k.value().get());
      QVERIFY(kc);
      if (M > 8) QVERIFY2(kc->kernelChoice().rfind("csr-window", 0) != 0, kc->kernelChoice().c_str());
    }
  }

  void optimizedArchitectures_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<double>("sparsity");
    QTest::addColumn<int>("threads");
    for (const char* a : {"lenet5", "resnet8", "mobilenet-tiny", "vgg-small"})
      for (double sp : {0.0, 0.9})
        for (int threads : {1, 2})
          QTest::newRow(qPrintable(QString("%1 %2 t%3").arg(a).arg(sp).arg(threads))) << QString(a) << sp << threads;
  }
  // The optimised executor (folded BatchNorm with non-trivial statistics,
  // fused activations, sparse kernels) against the graph run as stored; 37
  // images run in chunks of 4 or 5 images (convolutional graphs) or 4 chunks
  // over 2 threads.
  void optimizedArchitectures() {
    QFETCH(QString, arch);
    QFETCH(double, sparsity);
    QFETCH(int, threads);
    auto g = buildArchitecture(arch.toStdString());
    QVERIFY2(g.isOk(), g.isOk() ? "" : g.status().message().c_str());
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(0.5f, 1.5f), v(-0.2f, 0.2f);
    int bns = 0;
    for (const auto& n : g->nodes) {
      if (n.opType == "Conv" || n.opType == "Gemm") pruneRandom(g->initializers.at(n.input(1)), sparsity, rng);
      if (n.opType != "BatchNormalization") continue;
      ++bns;
      for (size_t i = 1; i < 5; ++i) {
        Tensor& t = g->initializers.at(n.input(i));
        for (int64_t e = 0; e < t.numel(); ++e) t.at(e) = i == 2 || i == 3 ? v(rng) : u(rng);
      }
    }
    Tensor x = randomTensor({37, 1, 28, 28}, rng);
    ExecutorOptions plain, fast;
    plain.threads = fast.threads = threads;
    fast.optimizeForInference = true;
    auto a = Executor::create(g.value(), plain);
    auto b = Executor::create(g.value(), fast);
    QVERIFY(a.isOk() && b.isOk());
    QVERIFY((*a)->run(x).isOk());
    QVERIFY((*b)->run(x).isOk());
    QVERIFY((*b)->run(x).isOk());
    QCOMPARE((*b)->output(0).shape(), (*a)->output(0).shape());
    double diff = testutil::maxAbsDiff((*b)->output(0), (*a)->output(0));
    QVERIFY2(diff < 2e-4, qPrintable(QString("max difference %1").arg(diff)));
    // Every BatchNorm was folded away, every activation after a Conv/Gemm fused.
    QVERIFY((*b)->nodeCount() < (*a)->nodeCount());
    for (size_t i = 0; i < (*b)->nodeCount(); ++i) QVERIFY((*b)->runNode(i).opType != "BatchNormalization");
    int folds = 0;
    for (const auto& line : (*b)->optimizationLog()) folds += line.find("folded") != std::string::npos;
    QCOMPARE(folds, bns);
    // The source graph is untouched: BatchNorm still runs in the plain executor.
    QCOMPARE((*a)->nodeCount(), g->nodes.size());
    // splitBatch off: the same outputs, and every intermediate tensor it
    // offers holds all 37 images (the split run keeps only the outputs and
    // what their producers read).
    ExecutorOptions whole = fast;
    whole.splitBatch = false;
    auto c = Executor::create(g.value(), whole);
    QVERIFY(c.isOk());
    QVERIFY((*c)->run(x).isOk());
    diff = testutil::maxAbsDiff((*c)->output(0), (*a)->output(0));
    QVERIFY2(diff < 2e-4, qPrintable(QString("whole batch: max difference %1").arg(diff)));
    int offered = 0, dropped = 0;
    std::set<std::string> produced;  // activations: outputs of earlier nodes
    for (size_t i = 0; i < (*c)->nodeCount(); ++i) {
      for (const std::string& in : (*c)->runNode(i).inputs) {
        if (!produced.count(in)) continue;
        const Tensor* t = (*c)->value(in);
        if (!t) continue;  // stored channels-last
        ++offered;
        QCOMPARE(t->shape()[0], int64_t(37));
        const Tensor* inB = (*b)->value(in);
        dropped += inB == nullptr;
      }
      for (const std::string& out : (*c)->runNode(i).outputs) produced.insert(out);
    }
    QVERIFY(offered >= 2);
    QVERIFY2(dropped > 0, "the split run was expected to drop intermediate tensors");
  }

  // A fused Conv refuses backward instead of returning a wrong gradient.
  void fusedHasNoBackward() {
    auto k = build("Conv", fastAttrs("dense", "Relu"));
    QVERIFY(k.isOk());
    std::mt19937 rng(3);
    Tensor X = randomTensor({1, 1, 4, 4}, rng), W = randomTensor({2, 1, 3, 3}, rng);
    RunContext ctx;
    std::vector<Tensor> y = run(*k.value(), {&X, &W}, 1, ctx);
    QCOMPARE(y.size(), size_t(1));
    Tensor gx;
    Status st = k.value()->backward({&X, &W}, {&y[0]}, {&y[0]}, {&gx, nullptr}, ctx);
    QVERIFY(!st.isOk());
  }
};

QTEST_APPLESS_MAIN(TestKernels)
#include "test_kernels.moc"
