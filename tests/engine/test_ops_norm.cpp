// Normalisation operators (LayerNormalization, InstanceNormalization, LRN,
// MeanVarianceNormalization) against plain double loops on random shapes,
// and the errors their attributes and inputs can raise.
#include <QtTest>
#include <cmath>

#include "engine/test_ops_tensor_common.h"

using namespace topiary;
using namespace tensortest;

namespace {

// Largest |a - b| / (1 + |b|) over a float tensor and its reference (+inf
// if the element counts differ).
double maxDiff(const Tensor& a, const std::vector<double>& b) {
  if (a.numel() != static_cast<int64_t>(b.size())) return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double want = b[static_cast<size_t>(i)];
    worst = std::max(worst, std::fabs(a.at(i) - want) / (1.0 + std::fabs(want)));
  }
  return worst;
}

Tensor floats(std::mt19937& rng, const Shape& s, float lo = -2.f, float hi = 2.f) {
  Tensor t(DType::Float, s);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = u(rng);
  return t;
}

}  // namespace

class TestOpsNorm : public QObject {
  Q_OBJECT
 private slots:
  void layerNormMatchesDoubleLoop() {
    std::mt19937 rng(11);
    for (int trial = 0; trial < 60; ++trial) {
      const int rank = 1 + trial % 4;
      Shape s = randomShape(rng, rank, 6);
      const int64_t axis = std::uniform_int_distribution<int64_t>(-rank, rank - 1)(rng);
      const int64_t a = axis < 0 ? axis + rank : axis;
      const Shape norm(s.begin() + a, s.end());
      // Scale over the whole normalised shape, or (every third trial) only its
      // last axis, broadcast over the others.
      const bool lastOnly = trial % 3 == 0;
      Tensor scale = floats(rng, lastOnly ? Shape{s.back()} : norm, 0.5f, 1.5f);
      Tensor bias = floats(rng, norm);
      Tensor x = floats(rng, s, -3.f, 5.f);
      const bool withBias = trial % 2 == 0;
      const float eps = trial % 5 == 0 ? 0.1f : 1e-5f;
      std::vector<const Tensor*> in = {&x, &scale};
      if (withBias) in.push_back(&bias);
      auto r = runOp("LayerNormalization", {{"axis", Attribute::ofInt(axis)}, {"epsilon", Attribute::ofFloat(eps)}}, in,
                     3, 17);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      const int64_t inner = numelOf(norm), outer = x.numel() / inner;
      std::vector<double> y(static_cast<size_t>(x.numel())), mean(static_cast<size_t>(outer)),
          inv(static_cast<size_t>(outer));
      for (int64_t o = 0; o < outer; ++o) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < inner; ++i) m += x.at(o * inner + i);
        m /= static_cast<double>(inner);
        for (int64_t i = 0; i < inner; ++i) v += (x.at(o * inner + i) - m) * (x.at(o * inner + i) - m);
        v /= static_cast<double>(inner);
        const double is = 1.0 / std::sqrt(v + eps);
        for (int64_t i = 0; i < inner; ++i) {
          const double sc = lastOnly ? scale.at(i % s.back()) : scale.at(i);
          const double b = withBias ? bias.at(i) : 0.0;
          y[static_cast<size_t>(o * inner + i)] = (x.at(o * inner + i) - m) * is * sc + b;
        }
        mean[static_cast<size_t>(o)] = m;
        inv[static_cast<size_t>(o)] = is;
      }
      Shape statShape(s.begin(), s.begin() + a);
      statShape.resize(s.size(), 1);
      QCOMPARE(r.outs[0].shape(), s);
      QCOMPARE(r.outs[1].shape(), statShape);
      QCOMPARE(r.outs[2].shape(), statShape);
      QVERIFY2(maxDiff(r.outs[0], y) < 1e-4, shapeToString(s).c_str());
      QVERIFY(maxDiff(r.outs[1], mean) < 1e-5);
      QVERIFY(maxDiff(r.outs[2], inv) < 1e-5);
    }
  }

  void layerNormErrorsAndEmptyInput() {
    std::mt19937 rng(12);
    Tensor x = floats(rng, {2, 3, 4});
    Tensor badScale = floats(rng, {3});  // does not broadcast to [4]
    QCOMPARE(runOp("LayerNormalization", {}, {&x, &badScale}, 1, 17).status.kind(), ErrorKind::BadInput);
    Tensor scale = floats(rng, {4});
    QCOMPARE(runOp("LayerNormalization", {{"axis", Attribute::ofInt(3)}}, {&x, &scale}, 1, 17).status.kind(),
             ErrorKind::BadInput);
    Tensor ix = x.cast(DType::Int32);
    QCOMPARE(runOp("LayerNormalization", {}, {&ix, &scale}, 1, 17).status.kind(), ErrorKind::Unsupported);
    QCOMPARE(buildOp("LayerNormalization", {{"stash_type", Attribute::ofInt(11)}}, 2, 1, 17).status().kind(),
             ErrorKind::Unsupported);
    QCOMPARE(buildOp("LayerNormalization", {}, 2, 1, 16).status().kind(), ErrorKind::Unsupported);  // not before 17
    // An empty batch whose trailing dimensions alone overflow int64.
    Tensor empty(DType::Float, {0, int64_t(1) << 40, int64_t(1) << 40});
    Tensor one = Tensor::fromVector<float>({1}, {1.f});
    auto r = runOp("LayerNormalization", {{"axis", Attribute::ofInt(1)}}, {&empty, &one}, 3, 17);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].shape(), empty.shape());
    QCOMPARE(r.outs[1].shape(), (Shape{0, 1, 1}));
  }

  void instanceNormMatchesLoop() {
    std::mt19937 rng(13);
    for (int trial = 0; trial < 20; ++trial) {
      Shape s = randomShape(rng, 2 + trial % 3, 5);
      const int64_t N = s[0], C = s[1], inner = numelOf(s) / (N * C);
      Tensor x = floats(rng, s, -1.f, 3.f), scale = floats(rng, {C}), bias = floats(rng, {C});
      const float eps = trial % 2 ? 1e-5f : 0.3f;
      auto r = runOp("InstanceNormalization", {{"epsilon", Attribute::ofFloat(eps)}}, {&x, &scale, &bias}, 1, 6);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      std::vector<double> y(static_cast<size_t>(x.numel()));
      for (int64_t p = 0; p < N * C; ++p) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < inner; ++i) m += x.at(p * inner + i);
        m /= static_cast<double>(inner);
        for (int64_t i = 0; i < inner; ++i) v += std::pow(x.at(p * inner + i) - m, 2);
        v /= static_cast<double>(inner);
        for (int64_t i = 0; i < inner; ++i)
          y[static_cast<size_t>(p * inner + i)] =
              scale.at(p % C) * (x.at(p * inner + i) - m) / std::sqrt(v + eps) + bias.at(p % C);
      }
      QVERIFY2(maxDiff(r.outs[0], y) < 1e-4, shapeToString(s).c_str());
    }
    Tensor x = floats(rng, {2, 3, 4}), wrong = floats(rng, {4}), right = floats(rng, {3});
    QCOMPARE(runOp("InstanceNormalization", {}, {&x, &wrong, &right}, 1, 6).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("InstanceNormalization", {}, {&x, &right, &wrong}, 1, 6).status.kind(), ErrorKind::BadInput);
  }

  void lrnMatchesWindowLoop() {
    std::mt19937 rng(14);
    for (int trial = 0; trial < 30; ++trial) {
      Shape s = randomShape(rng, 2 + trial % 3, 7);
      const int64_t size = 1 + trial % 6;  // odd and even windows, some wider than C
      const float alpha = 1e-4f * static_cast<float>(1 + trial), beta = 0.5f + 0.05f * static_cast<float>(trial % 7),
                  bias = 1.f + 0.25f * static_cast<float>(trial % 3);
      Tensor x = floats(rng, s, -10.f, 10.f);
      auto r = runOp("LRN",
                     {{"size", Attribute::ofInt(size)},
                      {"alpha", Attribute::ofFloat(alpha)},
                      {"beta", Attribute::ofFloat(beta)},
                      {"bias", Attribute::ofFloat(bias)}},
                     {&x}, 1, 13);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      const int64_t N = s[0], C = s[1], inner = numelOf(s) / (N * C);
      std::vector<double> y(static_cast<size_t>(x.numel()));
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t i = 0; i < inner; ++i) {
            double sq = 0;
            for (int64_t cc = c - (size - 1) / 2; cc <= c + size / 2; ++cc)
              if (cc >= 0 && cc < C) sq += std::pow(x.at((n * C + cc) * inner + i), 2);
            const int64_t at = (n * C + c) * inner + i;
            y[static_cast<size_t>(at)] = x.at(at) / std::pow(bias + alpha / static_cast<double>(size) * sq, beta);
          }
      QVERIFY2(maxDiff(r.outs[0], y) < 1e-4, (shapeToString(s) + " size " + std::to_string(size)).c_str());
    }
    QCOMPARE(buildOp("LRN", {}, 1, 1, 13).status().kind(), ErrorKind::BadInput);  // size is required
    QCOMPARE(buildOp("LRN", {{"size", Attribute::ofInt(0)}}, 1, 1, 13).status().kind(), ErrorKind::BadInput);
    Tensor v = floats(rng, {5});
    QCOMPARE(runOp("LRN", {{"size", Attribute::ofInt(3)}}, {&v}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

  void meanVarianceNormMatchesLoop() {
    std::mt19937 rng(15);
    const std::vector<std::vector<int64_t>> axesList = {{0, 2, 3}, {1}, {-1, 0}, {0, 1, 2, 3}};
    for (const auto& axes : axesList) {
      Shape s = randomShape(rng, 4, 4);
      s[0] = 2;
      Tensor x = floats(rng, s, -1.f, 4.f);
      auto r = runOp("MeanVarianceNormalization", {{"axes", Attribute::ofInts(axes)}}, {&x}, 1, 13);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      std::vector<bool> red(4, false);
      for (int64_t a : axes) red[static_cast<size_t>(a < 0 ? a + 4 : a)] = true;
      auto key = [&](int64_t i) {
        auto idx = unravel(i, s);
        int64_t k = 0;
        for (size_t d = 0; d < 4; ++d)
          if (!red[d]) k = k * s[d] + idx[d];
        return k;
      };
      std::map<int64_t, std::pair<double, double>> st;  // sum, sum of squares
      std::map<int64_t, int> count;
      for (int64_t i = 0; i < x.numel(); ++i) {
        st[key(i)].first += x.at(i);
        st[key(i)].second += double(x.at(i)) * x.at(i);
        ++count[key(i)];
      }
      std::vector<double> y(static_cast<size_t>(x.numel()));
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double n = count[key(i)], m = st[key(i)].first / n;
        y[static_cast<size_t>(i)] = (x.at(i) - m) / (std::sqrt(st[key(i)].second / n - m * m) + 1e-9);
      }
      QVERIFY2(maxDiff(r.outs[0], y) < 1e-4, shapeToString(axes).c_str());
    }
    QCOMPARE(buildOp("MeanVarianceNormalization", {{"axes", Attribute::ofInts({1, 1})}}, 1, 1, 13).status().kind(),
             ErrorKind::BadInput);
    Tensor x3 = floats(rng, {2, 3, 4});  // default axes name axis 3
    QCOMPARE(runOp("MeanVarianceNormalization", {}, {&x3}, 1, 13).status.kind(), ErrorKind::BadInput);
  }
};

QTEST_GUILESS_MAIN(TestOpsNorm)
#include "test_ops_norm.moc"
