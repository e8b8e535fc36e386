// Conv and ConvTranspose against naive reference loops on random shapes and
// attribute combinations; both backward passes (dX, dW, dB) by finite differences.
#include <QtTest>

#include "engine/test_ops_nn_helpers.h"

using namespace topiary;
using namespace nntest;

namespace {

// Output size and begin padding of one axis, computed the way the ONNX spec words it.
void axisGeometry(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, const std::string& autoPad,
                  int64_t& out, int64_t& padBegin) {
  int64_t ext = (k - 1) * d + 1;
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    out = (in + s - 1) / s;
    int64_t total = std::max<int64_t>(0, (out - 1) * s + ext - in);
    padBegin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
  } else if (autoPad == "VALID") {
    out = (in - ext) / s + 1;
    padBegin = 0;
  } else {
    out = (in + pb + pe - ext) / s + 1;
    padBegin = pb;
  }
}

struct ConvCase {
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, dilations, pads;
  std::string autoPad;
  bool bias;
  int threads;
};

Tensor refConv(const Tensor& X, const Tensor& W, const Tensor* B, const ConvCase& c) {
  size_t nd = X.shape().size() - 2;
  Shape ys{X.dim(0), W.dim(0)};
  std::vector<int64_t> s(nd), d(nd), pb(nd), k(nd);
  for (size_t i = 0; i < nd; ++i) {
    s[i] = c.strides.empty() ? 1 : c.strides[i];
    d[i] = c.dilations.empty() ? 1 : c.dilations[i];
    k[i] = W.shape()[2 + i];
    int64_t out;
    axisGeometry(X.shape()[2 + i], k[i], s[i], d[i], c.pads.empty() ? 0 : c.pads[i], c.pads.empty() ? 0 : c.pads[i + nd],
                 c.autoPad, out, pb[i]);
    ys.push_back(out);
  }
  Tensor Y(DType::Float, ys);
  const int64_t Cg = W.dim(1), coutG = W.dim(0) / c.group;
  forEachIndex(ys, [&](const std::vector<int64_t>& yi) {
    int64_t n = yi[0], co = yi[1], g = co / coutG;
    double sum = B ? B->at(co) : 0.0;
    for (int64_t cl = 0; cl < Cg; ++cl)
      forEachIndex(Shape(k.begin(), k.end()), [&](const std::vector<int64_t>& ki) {
        std::vector<int64_t> xi{n, g * Cg + cl};
        for (size_t j = 0; j < nd; ++j) {
          int64_t p = yi[2 + j] * s[j] - pb[j] + ki[j] * d[j];
          if (p < 0 || p >= X.shape()[2 + j]) return;
          xi.push_back(p);
        }
        std::vector<int64_t> wi{co, cl};
        wi.insert(wi.end(), ki.begin(), ki.end());
        sum += static_cast<double>(X.at(flatIndex(X.shape(), xi))) * W.at(flatIndex(W.shape(), wi));
      });
    Y.at(flatIndex(ys, yi)) = static_cast<float>(sum);
  });
  return Y;
}

std::map<std::string, Attribute> convAttrs(const ConvCase& c) {
  std::map<std::string, Attribute> a;
  a["group"] = Attribute::ofInt(c.group);
  if (!c.strides.empty()) a["strides"] = Attribute::ofInts(c.strides);
  if (!c.dilations.empty()) a["dilations"] = Attribute::ofInts(c.dilations);
  if (!c.pads.empty()) a["pads"] = Attribute::ofInts(c.pads);
  if (!c.autoPad.empty()) a["auto_pad"] = Attribute::ofString(c.autoPad);
  return a;
}

std::vector<ConvCase> convCases() {
  return {
      {{2, 3, 7, 6}, {4, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, "", true, 1},               // plain 3x3, padded
      {{2, 3, 9, 8}, {4, 3, 3, 2}, 1, {2, 1}, {2, 2}, {0, 1, 2, 1}, "", true, 2},       // strides, dilations, asymmetric pads
      {{3, 4, 6, 5}, {6, 2, 3, 2}, 2, {2, 1}, {}, {1, 0, 1, 1}, "", true, 2},           // two groups
      {{2, 4, 7, 7}, {4, 1, 3, 3}, 4, {2, 2}, {}, {1, 1, 1, 1}, "", true, 2},           // depthwise
      {{1, 3, 8, 7}, {6, 1, 3, 3}, 3, {}, {2, 1}, {}, "SAME_LOWER", false, 2},          // depthwise x2 multiplier
      {{2, 5, 4, 6}, {3, 5, 1, 1}, 1, {}, {}, {}, "", true, 2},                         // 1x1: plain GEMM
      {{2, 6, 5, 5}, {4, 3, 1, 1}, 2, {2, 2}, {}, {}, "", true, 1},                     // 1x1 strided, grouped
      {{2, 2, 9}, {3, 2, 3}, 1, {2}, {}, {}, "SAME_UPPER", true, 2},                    // 1-D
      {{1, 2, 4, 5, 4}, {2, 2, 2, 3, 2}, 1, {1, 2, 1}, {}, {1, 0, 1, 0, 1, 1}, "", true, 1},  // 3-D
      {{2, 3, 8, 7}, {2, 3, 3, 3}, 1, {2, 2}, {}, {}, "VALID", false, 2},               // VALID, no bias
      {{1, 4, 6, 6}, {4, 2, 2, 3}, 2, {1, 2}, {1, 2}, {}, "SAME_UPPER", true, 2},       // groups + SAME + dilation
  };
}

}  // namespace

class TestOpsNnConv : public QObject {
  Q_OBJECT
 private slots:
  void convMatchesReference() {
    std::mt19937 rng(1);
    int idx = 0;
    for (const ConvCase& c : convCases()) {
      auto k = build("Conv", convAttrs(c));
      QVERIFY2(k.isOk(), k.status().message().c_str());
      Tensor X = randomTensor(c.x, rng), W = randomTensor(c.w, rng), B = randomTensor({c.w[0]}, rng);
      RunContext ctx;
      ctx.threads = c.threads;
      std::string why;
      auto y = run(*k.value(), {&X, &W, c.bias ? &B : nullptr}, 1, ctx, &why);
      QVERIFY2(!y.empty(), why.c_str());
      Tensor ref = refConv(X, W, c.bias ? &B : nullptr, c);
      QCOMPARE(y[0].shape(), ref.shape());
      QVERIFY2(testutil::allClose(y[0], ref, 1e-4, 1e-5, &why), ("case " + std::to_string(idx) + ": " + why).c_str());
      // A second run on the same kernel reuses its scratch and must agree exactly.
      auto y2 = run(*k.value(), {&X, &W, c.bias ? &B : nullptr}, 1, ctx);
      QCOMPARE(testutil::maxAbsDiff(y[0], y2[0]), 0.0);
      ++idx;
    }
  }

  void convBackwardMatchesFiniteDifferences() {
    std::mt19937 rng(2);
    int idx = 0;
    for (ConvCase c : convCases()) {
      // Smaller batches keep the check fast; shapes stay as in the forward cases.
      c.x[0] = std::min<int64_t>(c.x[0], 2);
      auto k = build("Conv", convAttrs(c));
      QVERIFY(k.isOk());
      RunContext ctx;
      ctx.threads = c.threads;
      std::vector<Tensor> in{randomTensor(c.x, rng), randomTensor(c.w, rng)};
      std::vector<int> which{0, 1};
      if (c.bias) {
        in.push_back(randomTensor({c.w[0]}, rng));
        which.push_back(2);
      }
      std::string why;
      QVERIFY2(gradCheck(*k.value(), in, which, ctx, rng, &why), ("case " + std::to_string(idx) + ": " + why).c_str());
      ++idx;
    }
  }

  void convFlopsCountMultiplyAddsAsTwo() {
    auto k = build("Conv", {{"group", Attribute::ofInt(2)}, {"pads", Attribute::ofInts({1, 1, 1, 1})}});
    QVERIFY(k.isOk());
    // N=2, Cout=6, 5x5 output, Cin/group=2, 3x3 kernel, plus one bias add per output.
    double f = k.value()->flops({{2, 4, 5, 5}, {6, 2, 3, 3}, {6}}, {{2, 6, 5, 5}});
    QCOMPARE(f, 2.0 * 2 * 6 * 5 * 5 * 2 * 3 * 3 + 2 * 6 * 5 * 5);
  }

  void convRejectsBadAttributesAndShapes() {
    auto bad = build("Conv", {{"auto_pad", Attribute::ofString("SAME_MIDDLE")}});
    QVERIFY(!bad.isOk());
    QVERIFY(bad.status().message().find("auto_pad") != std::string::npos);
    auto neg = build("Conv", {{"strides", Attribute::ofInts({0, 1})}});
    QVERIFY(!neg.isOk());
    QVERIFY(neg.status().message().find("strides") != std::string::npos);
    auto k = build("Conv", {{"group", Attribute::ofInt(2)}});
    QVERIFY(k.isOk());
    Tensor X({1, 3, 4, 4}), W({4, 1, 3, 3});  // 3 channels cannot form 2 groups
    std::vector<Tensor> out(1);
    Status st = k.value()->forward({&X, &W}, {&out[0]}, RunContext{});
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    Tensor big({1, 3, 2, 2}), W3({2, 3, 3, 3});  // kernel larger than the unpadded input
    auto k1 = build("Conv");
    st = k1.value()->forward({&big, &W3}, {&out[0]}, RunContext{});
    QCOMPARE(st.kind(), ErrorKind::BadInput);
  }

  void convTransposeMatchesReference() {
    struct Case {
      Shape x, w;
      int64_t group;
      std::vector<int64_t> strides, dilations, pads, outputPadding;
    };
    std::vector<Case> cases{
        {{2, 3, 4, 5}, {3, 2, 3, 3}, 1, {}, {}, {}, {}},
        {{2, 4, 3, 4}, {4, 3, 3, 2}, 2, {2, 3}, {}, {1, 0, 1, 1}, {1, 0}},
        {{1, 2, 5, 3}, {2, 2, 2, 3}, 1, {2, 1}, {2, 2}, {0, 1, 1, 0}, {}},
        {{2, 3, 6}, {3, 1, 4}, 1, {3}, {}, {1, 2}, {2}},
    };
    std::mt19937 rng(3);
    for (size_t ci = 0; ci < cases.size(); ++ci) {
      const Case& c = cases[ci];
      std::map<std::string, Attribute> a{{"group", Attribute::ofInt(c.group)}};
      if (!c.strides.empty()) a["strides"] = Attribute::ofInts(c.strides);
      if (!c.dilations.empty()) a["dilations"] = Attribute::ofInts(c.dilations);
      if (!c.pads.empty()) a["pads"] = Attribute::ofInts(c.pads);
      if (!c.outputPadding.empty()) a["output_padding"] = Attribute::ofInts(c.outputPadding);
      auto k = build("ConvTranspose", a);
      QVERIFY2(k.isOk(), k.status().message().c_str());
      Tensor X = randomTensor(c.x, rng), W = randomTensor(c.w, rng);
      const int64_t coutG = c.w[1], cinG = c.x[1] / c.group, Cout = coutG * c.group;
      Tensor B = randomTensor({Cout}, rng);
      size_t nd = c.x.size() - 2;
      // Reference: scatter every input element through every weight.
      Shape ys{c.x[0], Cout};
      std::vector<int64_t> s(nd), d(nd), pb(nd);
      for (size_t j = 0; j < nd; ++j) {
        s[j] = c.strides.empty() ? 1 : c.strides[j];
        d[j] = c.dilations.empty() ? 1 : c.dilations[j];
        pb[j] = c.pads.empty() ? 0 : c.pads[j];
        int64_t pe = c.pads.empty() ? 0 : c.pads[j + nd], op = c.outputPadding.empty() ? 0 : c.outputPadding[j];
        ys.push_back(s[j] * (c.x[2 + j] - 1) + op + (c.w[2 + j] - 1) * d[j] + 1 - pb[j] - pe);
      }
      std::vector<double> acc(static_cast<size_t>(numelOf(ys)), 0.0);
      forEachIndex(ys, [&](const std::vector<int64_t>& yi) { acc[static_cast<size_t>(flatIndex(ys, yi))] = B.at(yi[1]); });
      Shape kshape(c.w.begin() + 2, c.w.end());
      forEachIndex(c.x, [&](const std::vector<int64_t>& xi) {
        int64_t g = xi[1] / cinG;
        for (int64_t cl = 0; cl < coutG; ++cl)
          forEachIndex(kshape, [&](const std::vector<int64_t>& ki) {
            std::vector<int64_t> yi{xi[0], g * coutG + cl};
            for (size_t j = 0; j < nd; ++j) {
              int64_t p = xi[2 + j] * s[j] - pb[j] + ki[j] * d[j];
              if (p < 0 || p >= ys[2 + j]) return;
              yi.push_back(p);
            }
            std::vector<int64_t> wi{xi[1], cl};
            wi.insert(wi.end(), ki.begin(), ki.end());
            acc[static_cast<size_t>(flatIndex(ys, yi))] += static_cast<double>(X.at(flatIndex(c.x, xi))) * W.at(flatIndex(c.w, wi));
          });
      });
      Tensor ref(DType::Float, ys);
      for (int64_t i = 0; i < ref.numel(); ++i) ref.at(i) = static_cast<float>(acc[static_cast<size_t>(i)]);
      RunContext ctx;
      ctx.threads = 2;
      std::string why;
      auto y = run(*k.value(), {&X, &W, &B}, 1, ctx, &why);
      QVERIFY2(!y.empty(), why.c_str());
      QCOMPARE(y[0].shape(), ys);
      QVERIFY2(testutil::allClose(y[0], ref, 1e-4, 1e-5, &why), ("case " + std::to_string(ci) + ": " + why).c_str());
      QVERIFY2(gradCheck(*k.value(), {X, W, B}, {0, 1, 2}, ctx, rng, &why), ("backward case " + std::to_string(ci) + ": " + why).c_str());
    }
  }

  void convTransposeOutputShapeSetsSize() {
    auto k = build("ConvTranspose", {{"strides", Attribute::ofInts({3, 2})}, {"output_shape", Attribute::ofInts({10, 8})}});
    QVERIFY(k.isOk());
    Tensor X({1, 1, 3, 3}), W({1, 2, 3, 3});
    X.fill(1.f);
    W.fill(1.f);
    auto y = run(*k.value(), {&X, &W}, 1, RunContext{});
    QCOMPARE(y[0].shape(), (Shape{1, 2, 10, 8}));
    // Each output element sums the windows covering it; (0,0) is covered once.
    QCOMPARE(y[0].at(0), 1.f);
  }
};

QTEST_APPLESS_MAIN(TestOpsNnConv)
#include "test_ops_nn_conv.moc"
