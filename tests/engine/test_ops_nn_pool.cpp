// MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool against naive
// reference loops; their backward passes by finite differences.
#include <QtTest>

#include <limits>

#include "engine/test_ops_nn_helpers.h"

using namespace topiary;
using namespace nntest;

namespace {

struct PoolCase {
  Shape x;
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::string autoPad;
  bool ceil;
  bool includePad;
};

struct PoolRef {
  Tensor max, avg;
  std::vector<int64_t> argmax;  // global row-major index into X
};

PoolRef refPool(const Tensor& X, const PoolCase& c) {
  size_t nd = c.kernel.size();
  Shape ys{X.dim(0), X.dim(1)};
  std::vector<int64_t> s(nd), d(nd), pb(nd), pe(nd);
  for (size_t j = 0; j < nd; ++j) {
    int64_t in = X.shape()[2 + j], k = c.kernel[j];
    s[j] = c.strides.empty() ? 1 : c.strides[j];
    d[j] = c.dilations.empty() ? 1 : c.dilations[j];
    int64_t ext = (k - 1) * d[j] + 1, out;
    if (c.autoPad == "SAME_UPPER" || c.autoPad == "SAME_LOWER") {
      out = (in + s[j] - 1) / s[j];
      int64_t total = std::max<int64_t>(0, (out - 1) * s[j] + ext - in);
      pb[j] = c.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe[j] = total - pb[j];
    } else {
      pb[j] = c.pads.empty() ? 0 : c.pads[j];
      pe[j] = c.pads.empty() ? 0 : c.pads[j + nd];
      int64_t span = in + pb[j] + pe[j] - ext;
      out = (c.ceil ? (span + s[j] - 1) / s[j] : span / s[j]) + 1;
      if (c.ceil && (out - 1) * s[j] >= in + pb[j]) --out;
    }
    ys.push_back(out);
  }
  PoolRef r{Tensor(DType::Float, ys), Tensor(DType::Float, ys), std::vector<int64_t>(static_cast<size_t>(numelOf(ys)))};
  forEachIndex(ys, [&](const std::vector<int64_t>& yi) {
    double sum = 0, best = -std::numeric_limits<double>::infinity();
    int64_t valid = 0, padded = 1, arg = -1;
    for (size_t j = 0; j < nd; ++j) {
      int64_t cnt = 0;
      for (int64_t t = 0; t < c.kernel[j]; ++t) {
        int64_t p = yi[2 + j] * s[j] - pb[j] + t * d[j];
        if (p >= -pb[j] && p < X.shape()[2 + j] + pe[j]) ++cnt;
      }
      padded *= cnt;
    }
    forEachIndex(Shape(c.kernel.begin(), c.kernel.end()), [&](const std::vector<int64_t>& ki) {
      std::vector<int64_t> xi{yi[0], yi[1]};
      for (size_t j = 0; j < nd; ++j) {
        int64_t p = yi[2 + j] * s[j] - pb[j] + ki[j] * d[j];
        if (p < 0 || p >= X.shape()[2 + j]) return;
        xi.push_back(p);
      }
      int64_t f = flatIndex(X.shape(), xi);
      sum += X.at(f);
      ++valid;
      if (X.at(f) > best) {
        best = X.at(f);
        arg = f;
      }
    });
    int64_t o = flatIndex(ys, yi);
    r.max.at(o) = static_cast<float>(best);
    r.avg.at(o) = static_cast<float>(sum / static_cast<double>(c.includePad ? padded : valid));
    r.argmax[static_cast<size_t>(o)] = arg;
  });
  return r;
}

std::map<std::string, Attribute> poolAttrs(const PoolCase& c, bool isMax) {
  std::map<std::string, Attribute> a{{"kernel_shape", Attribute::ofInts(c.kernel)}};
  if (!c.strides.empty()) a["strides"] = Attribute::ofInts(c.strides);
  if (!c.dilations.empty() && isMax) a["dilations"] = Attribute::ofInts(c.dilations);
  if (!c.pads.empty()) a["pads"] = Attribute::ofInts(c.pads);
  if (!c.autoPad.empty()) a["auto_pad"] = Attribute::ofString(c.autoPad);
  if (c.ceil) a["ceil_mode"] = Attribute::ofInt(1);
  if (c.includePad && !isMax) a["count_include_pad"] = Attribute::ofInt(1);
  return a;
}

std::vector<PoolCase> poolCases() {
  return {
      {{2, 3, 7, 6}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, "", false, false},
      {{1, 2, 8, 8}, {3, 3}, {2, 2}, {}, {}, "", true, false},           // ceil_mode adds a partial window
      {{1, 2, 7, 7}, {2, 2}, {1, 1}, {2, 2}, {1, 0, 0, 1}, "", false, false},  // dilations (MaxPool only)
      {{2, 2, 9}, {3}, {1}, {}, {}, "SAME_UPPER", false, false},        // 1-D
      {{1, 3, 7, 8}, {3, 3}, {2, 2}, {}, {}, "SAME_LOWER", false, false},
      {{1, 2, 4, 5, 4}, {2, 2, 2}, {2, 2, 2}, {}, {}, "", false, false},  // 3-D
      {{2, 2, 6, 6}, {3, 3}, {2, 2}, {}, {1, 1, 1, 1}, "", false, true},  // count_include_pad
      {{1, 2, 7, 6}, {3, 2}, {2, 2}, {}, {1, 0, 1, 0}, "", true, true},   // ceil_mode + pads counted
  };
}

}  // namespace

class TestOpsNnPool : public QObject {
  Q_OBJECT
 private slots:
  void maxPoolMatchesReferenceWithIndices() {
    std::mt19937 rng(11);
    for (size_t i = 0; i < poolCases().size(); ++i) {
      const PoolCase c = poolCases()[i];
      auto k = OpRegistry::instance().build(makeNode("MaxPool", poolAttrs(c, true), 2), 12);
      QVERIFY2(k.isOk(), k.status().message().c_str());
      Tensor X = randomTensor(c.x, rng);
      PoolRef ref = refPool(X, c);
      RunContext ctx;
      ctx.threads = 2;
      std::string why;
      auto y = run(*k.value(), {&X}, 2, ctx, &why);
      QVERIFY2(!y.empty(), why.c_str());
      QVERIFY2(testutil::allClose(y[0], ref.max, 0, 0, &why), ("case " + std::to_string(i) + ": " + why).c_str());
      QCOMPARE(y[1].dtype(), DType::Int64);
      for (int64_t o = 0; o < y[1].numel(); ++o) QCOMPARE(y[1].data<int64_t>()[o], ref.argmax[static_cast<size_t>(o)]);
    }
  }

  // Without the Indices output MaxPool takes its values-only paths: the
  // generic window loop and, for 2x2 stride 2 without padding, the vector
  // row (16 outputs per step, a masked last step; odd widths leave the last
  // input column unread). Both against the reference, exactly.
  void maxPoolValuesOnly() {
    std::mt19937 rng(12);
    std::vector<PoolCase> cases = poolCases();
    for (Shape x : {Shape{2, 3, 28, 28}, Shape{1, 2, 10, 10}, Shape{1, 2, 7, 9}, Shape{2, 1, 5, 33}, Shape{1, 1, 4, 66},
                    Shape{1, 3, 3, 2}, Shape{1, 1, 2, 40}, Shape{3, 16, 14, 14}})
      cases.push_back({x, {2, 2}, {2, 2}, {}, {}, "", false, false});
    for (size_t i = 0; i < cases.size(); ++i) {
      const PoolCase& c = cases[i];
      auto k = build("MaxPool", poolAttrs(c, true), 12);
      QVERIFY2(k.isOk(), k.status().message().c_str());
      Tensor X = randomTensor(c.x, rng, -3.f, -1.f);  // all negative: a zero read from outside would win
      RunContext ctx;
      ctx.threads = 2;
      std::string why;
      auto y = run(*k.value(), {&X}, 1, ctx, &why);
      QVERIFY2(!y.empty(), why.c_str());
      QVERIFY2(testutil::allClose(y[0], refPool(X, c).max, 0, 0, &why),
               ("case " + std::to_string(i) + ": " + why).c_str());
    }
  }

  void maxPoolColumnMajorIndices() {
    auto k = OpRegistry::instance().build(
        makeNode("MaxPool", {{"kernel_shape", Attribute::ofInts({2, 2})}, {"storage_order", Attribute::ofInt(1)}}, 2), 12);
    QVERIFY(k.isOk());
    // 1x1x2x3 input whose maximum of the first window sits at (h=1, w=0).
    Tensor X = Tensor::fromVector<float>({1, 1, 2, 3}, {0, 1, 2, 9, 3, 4});
    auto y = run(*k.value(), {&X}, 2, RunContext{});
    QCOMPARE(y[0].at(0), 9.f);
    QCOMPARE(y[1].data<int64_t>()[0], int64_t(1));  // column-major: w*H + h = 0*2 + 1
    QCOMPARE(y[0].at(1), 4.f);
    QCOMPARE(y[1].data<int64_t>()[1], int64_t(5));  // 4 sits at (h=1, w=2): 2*2 + 1
  }

  void averagePoolMatchesReference() {
    std::mt19937 rng(12);
    for (size_t i = 0; i < poolCases().size(); ++i) {
      PoolCase c = poolCases()[i];
      c.dilations.clear();  // AveragePool gains dilations only at opset 19
      auto k = build("AveragePool", poolAttrs(c, false), 11);
      QVERIFY2(k.isOk(), k.status().message().c_str());
      Tensor X = randomTensor(c.x, rng);
      PoolRef ref = refPool(X, c);
      std::string why;
      auto y = run(*k.value(), {&X}, 1, RunContext{}, &why);
      QVERIFY2(!y.empty(), why.c_str());
      QVERIFY2(testutil::allClose(y[0], ref.avg, 1e-5, 1e-6, &why), ("case " + std::to_string(i) + ": " + why).c_str());
    }
  }

  void poolBackwardsMatchFiniteDifferences() {
    std::mt19937 rng(13);
    for (size_t i = 0; i < poolCases().size(); ++i) {
      PoolCase c = poolCases()[i];
      RunContext ctx;
      ctx.threads = 2;
      std::string why;
      auto mk = build("MaxPool", poolAttrs(c, true), 12);
      QVERIFY(mk.isOk());
      QVERIFY2(gradCheck(*mk.value(), {distinctTensor(c.x, rng)}, {0}, ctx, rng, &why),
               ("MaxPool case " + std::to_string(i) + ": " + why).c_str());
      c.dilations.clear();
      auto ak = build("AveragePool", poolAttrs(c, false), 11);
      QVERIFY(ak.isOk());
      QVERIFY2(gradCheck(*ak.value(), {randomTensor(c.x, rng)}, {0}, ctx, rng, &why),
               ("AveragePool case " + std::to_string(i) + ": " + why).c_str());
    }
  }

  void globalPoolsMatchReferenceAndGradients() {
    std::mt19937 rng(14);
    for (Shape s : {Shape{2, 3, 5, 4}, Shape{1, 4, 7}, Shape{2, 2, 3, 2, 2}}) {
      Tensor X = distinctTensor(s, rng);
      auto avg = build("GlobalAveragePool"), mx = build("GlobalMaxPool");
      QVERIFY(avg.isOk() && mx.isOk());
      auto ya = run(*avg.value(), {&X}, 1, RunContext{});
      auto ym = run(*mx.value(), {&X}, 1, RunContext{});
      Shape os(s.size(), 1);
      os[0] = s[0];
      os[1] = s[1];
      QCOMPARE(ya[0].shape(), os);
      QCOMPARE(ym[0].shape(), os);
      int64_t inner = X.numel() / (s[0] * s[1]);
      for (int64_t p = 0; p < s[0] * s[1]; ++p) {
        double sum = 0;
        float m = -1e30f;
        for (int64_t i = 0; i < inner; ++i) {
          sum += X.at(p * inner + i);
          m = std::max(m, X.at(p * inner + i));
        }
        QVERIFY(std::fabs(ya[0].at(p) - sum / static_cast<double>(inner)) < 1e-6);
        QCOMPARE(ym[0].at(p), m);
      }
      std::string why;
      QVERIFY2(gradCheck(*avg.value(), {X}, {0}, RunContext{}, rng, &why), why.c_str());
      QVERIFY2(gradCheck(*mx.value(), {X}, {0}, RunContext{}, rng, &why), why.c_str());
    }
  }

  void poolFlopsAndErrors() {
    auto k = build("MaxPool", {{"kernel_shape", Attribute::ofInts({3, 3})}});
    QVERIFY(k.isOk());
    QCOMPARE(k.value()->flops({{1, 2, 6, 6}}, {{1, 2, 4, 4}}), 2.0 * 4 * 4 * 9);
    auto noKernel = build("AveragePool");
    QVERIFY(!noKernel.isOk());
    QVERIFY(noKernel.status().message().find("kernel_shape") != std::string::npos);
    auto negPad = build("MaxPool", {{"kernel_shape", Attribute::ofInts({2})}, {"pads", Attribute::ofInts({-1, 0})}});
    QVERIFY(!negPad.isOk());
    QVERIFY(negPad.status().message().find("pads") != std::string::npos);
    auto order = build("MaxPool", {{"kernel_shape", Attribute::ofInts({2})}, {"storage_order", Attribute::ofInt(3)}});
    QVERIFY(!order.isOk());
    QVERIFY(order.status().message().find("storage_order") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestOpsNnPool)
#include "test_ops_nn_pool.moc"
