// The N:M direct convolution (kernels/nm_conv.h) against a plain
// double-precision convolution: N:M patterns 2:4, 1:4, 2:8 and 4:8 along the
// input channels (the pruner's groups), channel counts that are not
// multiples of the group, of the two- to six-row blocks or of 16, planes
// whose wide rows end on 16, 32 or 48 lanes, strides 1 and 2, dilation,
// padding, 1x1 read in place, enough columns for several L1 chunks, rows
// with fewer nonzeros than others (padding slots) and an all-zero weight;
// with bias and an activation applied on the way out. Then the pattern
// detector, and the Conv operator with the kernel forced (topiary.kernel =
// nm-direct) and timed against the others, also with a fused residual. The N:M Gemm kernel
// (kernels/nm_gemm.h) likewise: outputs not multiples of 16, inputs not
// multiples of 4, 1 to 19 rows (every row block), accumulation into Y, and
// through the Gemm operator (alpha, bias, transB, fused Relu). And the
// kernel-wise 2:4 direct kernel (kernels/nm_kernel_direct.h): whole kernels
// kept per group of 4 input channels, 1x1 to 7x7, strides, dilation,
// outputs not multiples of the block of 8, zero rows, whole images and row
// pieces (batch 1 shared between threads), and through Conv.
#include <QtTest>
#include <cmath>
#include <random>

#include "engine/test_ops_nn_helpers.h"
#include "kernels/activation.h"
#include "kernels/direct_conv.h"
#include "kernels/kernel_choice.h"
#include "kernels/nm_conv.h"
#include "kernels/nm_kernel_direct.h"
#include "kernels/nm_gemm.h"

using topiary::kernels::Activation;
using topiary::kernels::DirectConvPlan;
using topiary::kernels::NmConvPlan;

namespace {

struct Case {
  int64_t cin, cout, H, W, k, stride, pad, dil;
  int n, m;
};

std::vector<float> randomValues(size_t count, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(count);
  for (float& f : v) f = u(rng);
  return v;
}

// Keeps at most n of every m consecutive input channels at each tap (random
// ones, so the positions differ per output channel and tap).
void pruneNm(std::vector<float>& w, int64_t cout, int64_t cin, int64_t taps, int n, int m, std::mt19937& rng) {
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t c0 = 0; c0 < cin; c0 += m) {
        std::vector<int64_t> idx;
        for (int64_t ci = c0; ci < std::min<int64_t>(cin, c0 + m); ++ci) idx.push_back(ci);
        std::shuffle(idx.begin(), idx.end(), rng);
        for (size_t i = static_cast<size_t>(n); i < idx.size(); ++i)
          w[static_cast<size_t>((co * cin + idx[i]) * taps + t)] = 0.f;
      }
}

// Keeps at most n whole kernels of every m consecutive input channels of
// each filter (random ones): the "nm_pattern": "kernel" pattern.
void pruneKernelNm(std::vector<float>& w, int64_t cout, int64_t cin, int64_t taps, int n, int m, std::mt19937& rng) {
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t c0 = 0; c0 < cin; c0 += m) {
      std::vector<int64_t> idx;
      for (int64_t ci = c0; ci < std::min<int64_t>(cin, c0 + m); ++ci) idx.push_back(ci);
      std::shuffle(idx.begin(), idx.end(), rng);
      for (size_t i = static_cast<size_t>(n); i < idx.size(); ++i)
        std::fill_n(w.begin() + (co * cin + idx[i]) * taps, taps, 0.f);
    }
}

double refAct(const Activation& a, double v) {
  if (a.kind == Activation::Kind::Relu) return v > 0 ? v : 0;
  if (a.kind == Activation::Kind::LeakyRelu) return v >= 0 ? v : a.alpha * v;
  return v;
}

// One image, square padding, as the Conv operator defines it.
std::vector<double> refConv(const Case& c, int64_t Ho, int64_t Wo, const std::vector<float>& x,
                            const std::vector<float>& w, const float* b, const Activation& act) {
  std::vector<double> y(static_cast<size_t>(c.cout * Ho * Wo));
  for (int64_t co = 0; co < c.cout; ++co)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        double s = b ? b[co] : 0.0;
        for (int64_t ci = 0; ci < c.cin; ++ci)
          for (int64_t kh = 0; kh < c.k; ++kh)
            for (int64_t kw = 0; kw < c.k; ++kw) {
              const int64_t ih = oh * c.stride - c.pad + kh * c.dil, iw = ow * c.stride - c.pad + kw * c.dil;
              if (ih < 0 || iw < 0 || ih >= c.H || iw >= c.W) continue;
              s += static_cast<double>(w[static_cast<size_t>(((co * c.cin + ci) * c.k + kh) * c.k + kw)]) *
                   x[static_cast<size_t>((ci * c.H + ih) * c.W + iw)];
            }
        y[static_cast<size_t>((co * Ho + oh) * Wo + ow)] = refAct(act, s);
      }
  return y;
}

DirectConvPlan planFor(const Case& c) {
  DirectConvPlan p{};
  p.cin = c.cin;
  p.cout = c.cout;
  p.H = c.H;
  p.W = c.W;
  p.kH = p.kW = c.k;
  p.dH = p.dW = c.dil;
  p.sH = p.sW = c.stride;
  p.padT = p.padL = c.pad;
  const int64_t ext = (c.k - 1) * c.dil + 1;
  p.Ho = (c.H + 2 * c.pad - ext) / c.stride + 1;
  p.Wo = (c.W + 2 * c.pad - ext) / c.stride + 1;
  p.init();
  return p;
}

// In row pieces (runRows), as two threads share one image: each piece with
// a scratch of its own holding stale values (only its rows are padded),
// every row written by exactly one piece (y refilled in between), checked
// by check(how); then one row alone must leave every other row as it was.
template <class Plan, class Check>
void rowPieces(const Plan& nm, const DirectConvPlan& p, int64_t scratchFloats, const std::vector<float>& x,
               std::vector<float>& y, const float* bias, const Activation& act, const std::vector<double>& ref,
               const Check& check) {
  for (const int pieces : {2, 3}) {
    if (p.Ho < pieces) continue;
    std::fill(y.begin(), y.end(), -3.f);
    std::vector<std::vector<float>> own(static_cast<size_t>(pieces),
                                        std::vector<float>(static_cast<size_t>(scratchFloats), 7.f));
    for (int i = pieces - 1; i >= 0; --i)  // the last piece first: nothing may rely on the order
      nm.runRows(p, x.data(), y.data(), own[static_cast<size_t>(i)].data(), bias, &act, p.Ho * i / pieces,
                 p.Ho * (i + 1) / pieces);
    check(pieces == 2 ? "2 row pieces" : "3 row pieces");
  }
  const int64_t row = p.Ho / 2, plane = p.Ho * p.Wo;
  std::fill(y.begin(), y.end(), -3.f);
  std::vector<float> scratch(static_cast<size_t>(scratchFloats), 7.f);
  nm.runRows(p, x.data(), y.data(), scratch.data(), bias, &act, row, row + 1);
  for (int64_t co = 0; co < p.cout; ++co)
    for (int64_t i = 0; i < plane; ++i) {
      const size_t at = static_cast<size_t>(co * plane + i);
      if (i / p.Wo == row)
        QVERIFY2(std::fabs(y[at] - ref[at]) <= 1e-4 * std::max(1.0, std::fabs(ref[at])), "row alone");
      else
        QCOMPARE(y[at], -3.f);
    }
}

// One Conv operator run (stride 1, same padding): weights pruned per tap or
// kernel-wise, bias, fused Relu, N images over the workers, twice;
// outputs against the double-precision convolution. With `kernel` forced,
// the choice must name `forcedName`; the density is shown either way.
void checkConv(const Case& c, bool wholeKernels, const QString& kernel, int threads, unsigned seed,
               const char* forcedName, int64_t N = 3) {
  using namespace topiary;
  std::mt19937 rng(seed);
  const int64_t taps = c.k * c.k;
  Tensor X = nntest::randomTensor({N, c.cin, c.H, c.W}, rng);
  Tensor W = nntest::randomTensor({c.cout, c.cin, c.k, c.k}, rng);
  Tensor B = nntest::randomTensor({c.cout}, rng);
  std::vector<float> w(W.f(), W.f() + W.numel());
  if (wholeKernels)
    pruneKernelNm(w, c.cout, c.cin, taps, c.n, c.m, rng);
  else
    pruneNm(w, c.cout, c.cin, taps, c.n, c.m, rng);
  std::copy(w.begin(), w.end(), W.f());
  std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                         {"pads", Attribute::ofInts({c.pad, c.pad, c.pad, c.pad})}};
  if (!kernel.isEmpty()) attrs["topiary.kernel"] = Attribute::ofString(kernel.toStdString());
  Node actNode;
  Activation relu;
  relu.kind = Activation::Kind::Relu;
  relu.toNode(actNode);
  for (auto& kv : actNode.attrs) attrs[kv.first] = kv.second;
  auto k = nntest::build("Conv", attrs);
  QVERIFY(static_cast<bool>(k));
  RunContext ctx;
  ctx.threads = threads;
  std::string why;
  for (int run = 0; run < 2; ++run) {
    std::vector<Tensor> out = nntest::run(*k.value(), {&X, &W, &B}, 1, ctx, &why);
    QVERIFY2(!out.empty(), why.c_str());
    double err = 0;
    for (int64_t n = 0; n < N; ++n) {
      std::vector<float> xn(X.f() + n * c.cin * c.H * c.W, X.f() + (n + 1) * c.cin * c.H * c.W);
      const std::vector<double> ref = refConv(c, c.H, c.W, xn, w, B.f(), relu);
      for (size_t i = 0; i < ref.size(); ++i)
        err = std::max(err, std::fabs(out[0].at(n * c.cout * c.H * c.W + static_cast<int64_t>(i)) - ref[i]));
    }
    QVERIFY2(err < 1e-4, qPrintable(QString("max error %1").arg(err)));
  }
  const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
  if (!kernel.isEmpty()) QVERIFY2(choice.rfind(forcedName, 0) == 0, choice.c_str());
  QVERIFY2(choice.find("50%") != std::string::npos, choice.c_str());  // the density shown with the kernel
}

}  // namespace

class TestNmKernel : public QObject {
  Q_OBJECT
 private slots:
  void plan_data() {
    QTest::addColumn<int>("caseIndex");
    QTest::addColumn<int>("variant");  // 0 plain, 1 bias + Relu, 2 bias + LeakyRelu, uneven rows, a zero row
    for (int i = 0; i < 14; ++i)
      for (int v = 0; v < 3; ++v) QTest::newRow(qPrintable(QString("case%1 v%2").arg(i).arg(v))) << i << v;
  }
  void plan() {
    QFETCH(int, caseIndex);
    QFETCH(int, variant);
    const Case cases[] = {
        {16, 16, 12, 12, 3, 1, 1, 1, 2, 4},  // resnet8-like, wide rows of 12 x 14
        {5, 7, 9, 11, 3, 1, 1, 1, 2, 4},     // channels not multiples of 4, last group of 1
        {6, 3, 8, 8, 3, 2, 1, 1, 2, 4},      // stride 2 (phase planes)
        {13, 9, 10, 7, 3, 1, 2, 2, 2, 4},    // dilation 2, padding 2
        {32, 24, 8, 8, 1, 1, 0, 1, 2, 4},    // 1x1 read in place, wide = 64 (32 + 32 at the end)
        {24, 17, 7, 7, 1, 1, 0, 1, 2, 4},    // 1x1 on 7x7 (wide 64, 15 dropped lanes)
        {40, 10, 9, 9, 3, 1, 1, 1, 2, 4},    // 360 columns: several L1 chunks
        {8, 11, 6, 6, 5, 1, 2, 1, 2, 4},     // 5x5 taps
        {16, 8, 9, 9, 3, 1, 1, 1, 1, 4},     // 1:4
        {16, 8, 9, 9, 3, 1, 1, 1, 2, 8},     // 2:8
        {19, 6, 9, 9, 3, 2, 0, 1, 4, 8},     // 4:8, stride 2, no padding, partial last group
        {12, 20, 5, 23, 3, 1, 1, 1, 2, 4},   // non-square, 20 outputs (blocks of 2 and a rest)
        {64, 16, 4, 4, 7, 1, 3, 1, 2, 4},    // 7x7 taps: chunks wider than 144 columns (2 vectors)
        {4, 1, 3, 3, 1, 1, 0, 1, 2, 4},      // one output channel on a 3x3 plane (wide 16)
    };
    const Case c = cases[caseIndex];
    std::mt19937 rng(static_cast<unsigned>(31 * caseIndex + variant));
    const int64_t taps = c.k * c.k;
    std::vector<float> x = randomValues(static_cast<size_t>(c.cin * c.H * c.W), rng);
    std::vector<float> w = randomValues(static_cast<size_t>(c.cout * c.cin * taps), rng);
    std::vector<float> b = randomValues(static_cast<size_t>(c.cout), rng);
    pruneNm(w, c.cout, c.cin, taps, c.n, c.m, rng);
    if (variant == 2) {
      // Uneven rows (output channel 0 keeps one weight) and, with 2+ rows, an
      // all-zero one; the one-channel case loses every weight.
      for (int64_t i = 1; i < c.cin * taps; ++i) w[static_cast<size_t>(i)] = 0.f;
      if (c.cout > 1) std::fill(w.begin() + c.cin * taps, w.begin() + 2 * c.cin * taps, 0.f);
      if (c.cout == 1) w[0] = 0.f;
    }
    Activation act;
    if (variant == 1) act.kind = Activation::Kind::Relu;
    if (variant == 2) {
      act.kind = Activation::Kind::LeakyRelu;
      act.alpha = 0.1f;
    }
    const float* bias = variant > 0 ? b.data() : nullptr;
    DirectConvPlan p = planFor(c);
    p.pack(w.data());
    NmConvPlan nm;
    QVERIFY(nm.build(p, w.data()));
    QVERIFY(nm.builtFor(p));
    // The reported pattern holds and is no looser than the one pruned.
    QVERIFY(topiary::kernels::hasChannelNmPattern(w.data(), c.cout, c.cin, taps, nm.n, nm.m));
    QVERIFY(nm.n * c.m <= c.n * nm.m);
    if (caseIndex == 6) QVERIFY(nm.chunks.size() > 1);
    std::vector<float> scratch(static_cast<size_t>(nm.scratchFloats(p)), 7.f);  // stale scratch must not leak in
    std::vector<float> y(static_cast<size_t>(c.cout * p.Ho * p.Wo), -3.f);
    const std::vector<double> ref = refConv(c, p.Ho, p.Wo, x, w, bias, act);
    auto check = [&](const char* how) {
      double err = 0, scale = 1;
      for (size_t i = 0; i < ref.size(); ++i) {
        err = std::max(err, std::fabs(y[i] - ref[i]));
        scale = std::max(scale, std::fabs(ref[i]));
      }
      QVERIFY2(err <= 2e-6 * scale * std::sqrt(static_cast<double>(c.cin * taps)),
               qPrintable(QString("%1: max error %2 (scale %3)").arg(how).arg(err).arg(scale)));
    };
    // Twice: the second run reuses the staging buffer (in the scratch).
    for (int run = 0; run < 2; ++run) {
      nm.run(p, x.data(), y.data(), scratch.data(), bias, &act);
      check("whole image");
    }
    rowPieces(nm, p, nm.scratchFloats(p), x, y, bias, act, ref, check);
  }

  void kernelPlan_data() {
    QTest::addColumn<int>("caseIndex");
    QTest::addColumn<int>("variant");  // 0 plain, 1 bias + Relu, 2 bias + LeakyRelu with a zero row and a 1-kernel row
    for (int i = 0; i < 12; ++i)
      for (int v = 0; v < 3; ++v) QTest::newRow(qPrintable(QString("case%1 v%2").arg(i).arg(v))) << i << v;
  }
  void kernelPlan() {
    QFETCH(int, caseIndex);
    QFETCH(int, variant);
    const Case cases[] = {
        {20, 50, 12, 12, 5, 1, 0, 1, 2, 4},  // lenet5-caffe conv2: wide 96 = 48 + 48, 6 blocks of 8 and 2
        {6, 16, 14, 14, 5, 1, 0, 1, 2, 4},   // lenet5 conv2: a last group of 2 channels
        {8, 11, 6, 6, 5, 1, 2, 1, 2, 4},     // padding 2, 11 outputs (8 + 3)
        {13, 17, 10, 7, 3, 1, 2, 2, 2, 4},   // dilation 2, 13 channels (last group of 1)
        {16, 9, 9, 9, 3, 2, 1, 1, 2, 4},     // stride 2 (phase planes)
        {64, 16, 4, 4, 7, 1, 3, 1, 2, 4},    // 7x7 taps
        {12, 8, 8, 8, 2, 1, 0, 1, 2, 4},     // 2x2 taps, 7x7 output (wide 64: 32 + 32)
        {16, 24, 8, 8, 1, 1, 0, 1, 2, 4},    // 1x1 in place, output written in place
        {16, 8, 9, 9, 3, 1, 1, 1, 1, 4},     // 1:4
        {24, 7, 16, 16, 3, 1, 1, 1, 2, 8},   // 2:8, wide 256 ending on 16 (4 x 48 + 32 + 32)
        {4, 1, 3, 3, 3, 1, 1, 1, 2, 4},      // one output, one group (wide 16)
        {12, 9, 14, 13, 3, 3, 1, 1, 2, 4},   // stride 3 (the element-wise phase split), 5x5 output
    };
    const Case c = cases[caseIndex];
    std::mt19937 rng(static_cast<unsigned>(57 * caseIndex + variant));
    const int64_t taps = c.k * c.k;
    std::vector<float> x = randomValues(static_cast<size_t>(c.cin * c.H * c.W), rng);
    std::vector<float> w = randomValues(static_cast<size_t>(c.cout * c.cin * taps), rng);
    std::vector<float> b = randomValues(static_cast<size_t>(c.cout), rng);
    pruneKernelNm(w, c.cout, c.cin, taps, c.n, c.m, rng);
    if (variant == 2) {
      // Output 0 keeps one kernel, output 1 (when there is one) none.
      std::fill(w.begin() + taps, w.begin() + c.cin * taps, 0.f);
      if (c.cout > 1) std::fill(w.begin() + c.cin * taps, w.begin() + 2 * c.cin * taps, 0.f);
    }
    Activation act;
    if (variant == 1) act.kind = Activation::Kind::Relu;
    if (variant == 2) {
      act.kind = Activation::Kind::LeakyRelu;
      act.alpha = 0.1f;
    }
    const float* bias = variant > 0 ? b.data() : nullptr;
    DirectConvPlan p = planFor(c);
    p.pack(w.data());
    topiary::kernels::NmKernelDirectPlan nm;
    QVERIFY(nm.build(p, w.data()));
    QVERIFY(nm.builtFor(p));
    std::vector<float> scratch(static_cast<size_t>(p.scratchFloats()), 7.f);  // stale scratch must not leak in
    std::vector<float> y(static_cast<size_t>(c.cout * p.Ho * p.Wo), -3.f);
    const std::vector<double> ref = refConv(c, p.Ho, p.Wo, x, w, bias, act);
    auto check = [&](const char* how) {
      double err = 0, scale = 1;
      for (size_t i = 0; i < ref.size(); ++i) {
        err = std::max(err, std::fabs(y[i] - ref[i]));
        scale = std::max(scale, std::fabs(ref[i]));
      }
      QVERIFY2(err <= 2e-6 * scale * std::sqrt(static_cast<double>(c.cin * taps)),
               qPrintable(QString("%1: max error %2 (scale %3)").arg(how).arg(err).arg(scale)));
    };
    for (int run = 0; run < 2; ++run) {
      nm.run(p, x.data(), y.data(), scratch.data(), bias, &act);
      check("whole image");
    }
    rowPieces(nm, p, p.scratchFloats(), x, y, bias, act, ref, check);
  }

  // The kernel-wise plan refuses weights without whole zero kernels: dense,
  // the per-tap pattern (zeros at different channels per tap), 3 kernels of
  // 4 kept, fewer input channels than a group.
  void kernelPlanRefuses() {
    std::mt19937 rng(21);
    const Case c{16, 8, 9, 9, 3, 1, 1, 1, 2, 4};
    const int64_t taps = 9;
    DirectConvPlan p = planFor(c);
    std::vector<float> w = randomValues(static_cast<size_t>(c.cout * c.cin * taps), rng);
    topiary::kernels::NmKernelDirectPlan nm;
    QVERIFY(!nm.build(p, w.data()));
    std::vector<float> tap = w;
    pruneNm(tap, c.cout, c.cin, taps, 2, 4, rng);
    QVERIFY(!nm.build(p, tap.data()));
    std::vector<float> three = w;
    pruneKernelNm(three, c.cout, c.cin, taps, 3, 4, rng);
    QVERIFY(!nm.build(p, three.data()));
    QVERIFY(!nm.builtFor(p));
    const Case few{3, 8, 9, 9, 3, 1, 1, 1, 2, 4};
    DirectConvPlan pf = planFor(few);
    std::vector<float> wf = randomValues(static_cast<size_t>(few.cout * few.cin * taps), rng);
    pruneKernelNm(wf, few.cout, few.cin, taps, 2, 4, rng);
    QVERIFY(!nm.build(pf, wf.data()));
  }

  void convKernelPattern_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<int>("threads");
    QTest::addColumn<int>("batch");
    for (const char* k : {"nm-kernel-direct", ""})
      for (int t : {1, 2})
        for (int n : {3, 1})
          QTest::newRow(qPrintable(QString("%1 t%2 n%3").arg(k[0] ? k : "auto").arg(t).arg(n))) << QString(k) << t << n;
  }
  // Through the Conv operator: kernel-wise 2:4 5x5 weights, bias, fused
  // Relu, a batch over the workers; the forced kernel reports itself. One
  // image on two threads takes the row pieces shared with a helper.
  void convKernelPattern() {
    QFETCH(QString, kernel);
    QFETCH(int, threads);
    QFETCH(int, batch);
    checkConv({12, 10, 11, 11, 5, 1, 2, 1, 2, 4}, true, kernel, threads, 8, "nm-kernel-direct", batch);
  }

  // The detector: the tightest pattern that holds, or none.
  void pattern() {
    std::mt19937 rng(7);
    const int64_t cout = 6, cin = 16, taps = 9;
    std::vector<float> w = randomValues(static_cast<size_t>(cout * cin * taps), rng);
    int n = 0, m = 0;
    QVERIFY(!topiary::kernels::channelNmPattern(w.data(), cout, cin, taps, n, m));  // dense
    std::vector<float> w24 = w;
    pruneNm(w24, cout, cin, taps, 2, 4, rng);
    QVERIFY(topiary::kernels::channelNmPattern(w24.data(), cout, cin, taps, n, m));
    QCOMPARE(n, 2);
    QCOMPARE(m, 4);
    std::vector<float> w14 = w;
    pruneNm(w14, cout, cin, taps, 1, 4, rng);
    QVERIFY(topiary::kernels::channelNmPattern(w14.data(), cout, cin, taps, n, m));
    QCOMPARE(n, 1);
    QCOMPARE(m, 4);
    std::vector<float> w34 = w;
    pruneNm(w34, cout, cin, taps, 3, 4, rng);  // denser than half: not for this kernel
    QVERIFY(!topiary::kernels::channelNmPattern(w34.data(), cout, cin, taps, n, m));
    // 2:4 along the flattened row of a 2x2 kernel (taps 0 and 1 of every
    // channel kept) is not 2:4 along the channels.
    std::vector<float> flat = randomValues(static_cast<size_t>(cout * cin * 4), rng);
    for (size_t i = 0; i < flat.size(); ++i)
      if (i % 4 >= 2) flat[i] = 0.f;
    QVERIFY(!topiary::kernels::hasChannelNmPattern(flat.data(), cout, cin, 4, 2, 4));
  }

  void conv_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<int>("threads");
    QTest::addColumn<int>("batch");
    for (const char* k : {"nm-direct", ""})
      for (int t : {1, 2})
        for (int n : {3, 1})
          QTest::newRow(qPrintable(QString("%1 t%2 n%3").arg(k[0] ? k : "auto").arg(t).arg(n))) << QString(k) << t << n;
  }
  // Through the Conv operator: 2:4 weights, bias, fused Relu, a batch over
  // the workers; the forced kernel reports itself, the timed choice matches
  // too. One image on two threads (a layer big enough, 0.45 MFLOP) takes
  // the row pieces shared with a helper.
  void conv() {
    QFETCH(QString, kernel);
    QFETCH(int, threads);
    QFETCH(int, batch);
    const Case c = batch == 1 ? Case{16, 16, 14, 14, 3, 1, 1, 1, 2, 4} : Case{12, 10, 9, 9, 3, 1, 1, 1, 2, 4};
    checkConv(c, false, kernel, threads, 3, "nm-direct", batch);
  }

  // A fused residual (topiary.residual: Y = Relu(conv(X) + B + R)) on the
  // forced N:M kernel, which adds it while compacting its output, before the
  // activation: two images on one thread (stride 2), and one image whose
  // output rows are shared with a helper thread (each piece adds the
  // residual of its own rows).
  void convResidual_data() {
    QTest::addColumn<int>("shared");
    QTest::newRow("batch 2, 1 thread") << 0;
    QTest::newRow("batch 1, rows shared by 2 threads") << 1;
  }
  void convResidual() {
    using namespace topiary;
    QFETCH(int, shared);
    std::mt19937 rng(11);
    const Case c = shared ? Case{16, 16, 14, 14, 3, 1, 1, 1, 2, 4} : Case{8, 12, 7, 7, 3, 2, 1, 1, 2, 4};
    const int64_t N = shared ? 1 : 2, taps = 9, Ho = shared ? 14 : 4;
    Tensor X = nntest::randomTensor({N, c.cin, c.H, c.W}, rng);
    Tensor W = nntest::randomTensor({c.cout, c.cin, c.k, c.k}, rng);
    Tensor B = nntest::randomTensor({c.cout}, rng);
    Tensor R = nntest::randomTensor({N, c.cout, Ho, Ho}, rng, -2.f, 2.f);
    std::vector<float> w(W.f(), W.f() + W.numel());
    pruneNm(w, c.cout, c.cin, taps, 2, 4, rng);
    std::copy(w.begin(), w.end(), W.f());
    std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                           {"topiary.residual", Attribute::ofInt(1)},
                                           {"topiary.kernel", Attribute::ofString("nm-direct")},
                                           {"strides", Attribute::ofInts({c.stride, c.stride})},
                                           {"pads", Attribute::ofInts({1, 1, 1, 1})}};
    Node actNode;
    Activation relu;
    relu.kind = Activation::Kind::Relu;
    relu.toNode(actNode);
    for (auto& kv : actNode.attrs) attrs[kv.first] = kv.second;
    auto k = nntest::build("Conv", attrs);
    QVERIFY(static_cast<bool>(k));
    RunContext ctx;
    ctx.threads = shared ? 2 : 1;
    std::string why;
    std::vector<Tensor> out = nntest::run(*k.value(), {&X, &W, &B, &R}, 1, ctx, &why);
    QVERIFY2(!out.empty(), why.c_str());
    double err = 0;
    for (int64_t n = 0; n < N; ++n) {
      std::vector<float> xn(X.f() + n * c.cin * c.H * c.W, X.f() + (n + 1) * c.cin * c.H * c.W);
      const std::vector<double> conv = refConv(c, Ho, Ho, xn, w, B.f(), Activation{});
      for (size_t i = 0; i < conv.size(); ++i) {
        const int64_t j = n * c.cout * Ho * Ho + static_cast<int64_t>(i);
        err = std::max(err, std::fabs(out[0].at(j) - std::max(0.0, conv[i] + R.at(j))));
      }
    }
    QVERIFY2(err < 1e-4, qPrintable(QString("max error %1").arg(err)));
    const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
    QVERIFY2(choice.rfind("nm-direct", 0) == 0, choice.c_str());
  }

  void gemmPlan_data() {
    QTest::addColumn<int>("N");
    QTest::addColumn<int>("K");
    QTest::addColumn<int>("M");
    // M >= 64: whole blocks of 64 rows in the batched form (rows in lanes),
    // then one block of 32 when 32 rows or more remain, the rest by rows;
    // K 13 and 30 end in a partial group and a partial 16-input block.
    const int shapes[][3] = {{16, 8, 1},    {37, 13, 5},  {100, 300, 19}, {5, 4, 8},      {48, 64, 15},  {300, 784, 2},
                             {1, 3, 3},     {17, 1, 4},   {64, 22, 9},    {300, 784, 70}, {37, 13, 130}, {10, 100, 64},
                             {21, 30, 128}, {3, 17, 200}, {300, 784, 32}, {37, 13, 100},  {21, 30, 47}};
    for (const auto& s : shapes)
      QTest::newRow(qPrintable(QString("N%1 K%2 M%3").arg(s[0]).arg(s[1]).arg(s[2]))) << s[0] << s[1] << s[2];
  }
  void gemmPlan() {
    QFETCH(int, N);
    QFETCH(int, K);
    QFETCH(int, M);
    std::mt19937 rng(static_cast<unsigned>(N * 131 + K * 7 + M));
    std::vector<float> w = randomValues(static_cast<size_t>(N * K), rng);
    std::vector<float> a = randomValues(static_cast<size_t>(M * K + 3), rng);  // rows K + 3 apart below
    for (int64_t n = 0; n < N; ++n)                                            // 2:4 along K (some groups keep fewer)
      for (int64_t g = 0; g < K; g += 4) {
        std::vector<int64_t> idx;
        for (int64_t k = g; k < std::min<int64_t>(K, g + 4); ++k) idx.push_back(k);
        std::shuffle(idx.begin(), idx.end(), rng);
        for (size_t i = (n + g) % 5 == 0 ? 1 : 2; i < idx.size(); ++i) w[static_cast<size_t>(n * K + idx[i])] = 0.f;
      }
    topiary::kernels::NmGemmPlan p;
    QVERIFY(topiary::kernels::NmGemmPlan::build(w.data(), N, K, p));
    QCOMPARE(static_cast<int64_t>(p.slotInputs.size()), (N + 3) / 4 * 4 * (2 * ((K + 3) / 4)));  // the batched form too
    const int64_t lda = M > 1 ? (M * K + 3 - K) / (M - 1) : K;  // >= K: rows may be wider than K
    const int64_t ldy = N + 2;
    std::vector<float> y0 = randomValues(static_cast<size_t>(M * ldy), rng), y1 = y0, y2 = y0, y3 = y0, y4 = y0;
    p.run(a.data(), lda, M, y1.data(), ldy, 0, p.blocks);
    p.runScalar(a.data(), lda, M, y2.data(), ldy, 0, p.blocks);
    // Output blocks in two calls, as threads split them; all over 2 threads.
    const int64_t half = p.blocks / 2;
    p.run(a.data(), lda, M, y3.data(), ldy, 0, half);
    p.run(a.data(), lda, M, y3.data(), ldy, half, p.blocks);
    p.runAll(a.data(), lda, M, y4.data(), ldy, 2);
    QVERIFY(y3 == y1);
    QVERIFY(y4 == y1);
    double err1 = 0, err2 = 0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < ldy; ++n) {
        double ref = y0[static_cast<size_t>(m * ldy + n)];
        if (n < N)
          for (int64_t k = 0; k < K; ++k)
            ref += static_cast<double>(w[static_cast<size_t>(n * K + k)]) * a[static_cast<size_t>(m * lda + k)];
        err1 = std::max(err1, std::fabs(y1[static_cast<size_t>(m * ldy + n)] - ref));
        err2 = std::max(err2, std::fabs(y2[static_cast<size_t>(m * ldy + n)] - ref));
      }
    const double tol = 1e-6 * (2 + K);
    QVERIFY2(err1 < tol, qPrintable(QString("vector kernel error %1").arg(err1)));
    QVERIFY2(err2 < tol, qPrintable(QString("scalar kernel error %1").arg(err2)));
    // Three nonzeros in a group: refused.
    if (K >= 4) {
      std::vector<float> dense = randomValues(static_cast<size_t>(N * K), rng);
      QVERIFY(!topiary::kernels::NmGemmPlan::build(dense.data(), N, K, p));
    }
  }

  void gemmOp_data() {
    QTest::addColumn<QString>("kernel");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("transB");
    for (const char* k : {"2:4", ""})
      for (int batch : {1, 6, 33})
        for (int tb : {0, 1})
          QTest::newRow(qPrintable(QString("%1 b%2 tB%3").arg(k[0] ? k : "auto").arg(batch).arg(tb)))
              << QString(k) << batch << tb;
  }
  // Y = Relu(0.5 * A op(B) + C) with op(B) 2:4 along its inputs.
  void gemmOp() {
    QFETCH(QString, kernel);
    QFETCH(int, batch);
    QFETCH(int, transB);
    using namespace topiary;
    const int64_t K = 30, N = 21;
    std::mt19937 rng(static_cast<unsigned>(batch * 2 + transB));
    Tensor A = nntest::randomTensor({batch, K}, rng);
    Tensor B = nntest::randomTensor(transB ? Shape{N, K} : Shape{K, N}, rng);
    Tensor C = nntest::randomTensor({N}, rng);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t g = 0; g < K; g += 4)
        for (int64_t k = g; k < std::min<int64_t>(K, g + 4); ++k)
          if ((k + n) % 4 >= 2) B.at(transB ? n * K + k : k * N + n) = 0.f;
    std::map<std::string, Attribute> attrs{{"topiary.frozen", Attribute::ofInt(1)},
                                           {"alpha", Attribute::ofFloat(0.5f)},
                                           {"transB", Attribute::ofInt(transB)}};
    if (!kernel.isEmpty()) attrs["topiary.kernel"] = Attribute::ofString(kernel.toStdString());
    Node actNode;
    Activation relu;
    relu.kind = Activation::Kind::Relu;
    relu.toNode(actNode);
    for (auto& kv : actNode.attrs) attrs[kv.first] = kv.second;
    auto k = nntest::build("Gemm", attrs);
    QVERIFY(static_cast<bool>(k));
    RunContext ctx;
    ctx.threads = 2;
    std::string why;
    for (int run = 0; run < 2; ++run) {
      std::vector<Tensor> out = nntest::run(*k.value(), {&A, &B, &C}, 1, ctx, &why);
      QVERIFY2(!out.empty(), why.c_str());
      double err = 0;
      for (int64_t m = 0; m < batch; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double s = C.at(n);
          for (int64_t kk = 0; kk < K; ++kk) s += 0.5 * A.at(m * K + kk) * B.at(transB ? n * K + kk : kk * N + n);
          err = std::max(err, std::fabs(out[0].at(m * N + n) - std::max(0.0, s)));
        }
      QVERIFY2(err < 1e-4, qPrintable(QString("max error %1").arg(err)));
    }
    const std::string choice = dynamic_cast<const kernels::KernelChoice&>(*k.value()).kernelChoice();
    if (!kernel.isEmpty()) QVERIFY2(choice.rfind("2:4", 0) == 0, choice.c_str());
  }
};

QTEST_APPLESS_MAIN(TestNmKernel)
#include "test_nm_kernel.moc"
