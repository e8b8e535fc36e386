// MatMul and BatchNormalization against naive references; backward passes
// (MatMul: both operands, broadcast batches included; BatchNorm: inference and
// training mode) by finite differences.
#include <QtTest>

#include "engine/test_ops_nn_helpers.h"

using namespace topiary;
using namespace nntest;

namespace {

// numpy matmul, one output element at a time.
Tensor refMatMul(const Tensor& A, const Tensor& B) {
  Shape sa = A.shape(), sb = B.shape();
  if (sa.size() == 1) sa.insert(sa.begin(), 1);
  if (sb.size() == 1) sb.push_back(1);
  size_t r = std::max(sa.size(), sb.size());
  while (sa.size() < r) sa.insert(sa.begin(), 1);
  while (sb.size() < r) sb.insert(sb.begin(), 1);
  Shape full(r);
  for (size_t d = 0; d + 2 < r; ++d) full[d] = std::max(sa[d], sb[d]);
  full[r - 2] = sa[r - 2];
  full[r - 1] = sb[r - 1];
  const int64_t K = sa[r - 1];
  Tensor Y(DType::Float, full);
  forEachIndex(full, [&](const std::vector<int64_t>& yi) {
    std::vector<int64_t> ai(r), bi(r);
    for (size_t d = 0; d + 2 < r; ++d) {
      ai[d] = sa[d] == 1 ? 0 : yi[d];
      bi[d] = sb[d] == 1 ? 0 : yi[d];
    }
    double s = 0;
    for (int64_t k = 0; k < K; ++k) {
      ai[r - 2] = yi[r - 2];
      ai[r - 1] = k;
      bi[r - 2] = k;
      bi[r - 1] = yi[r - 1];
      s += static_cast<double>(A.at(flatIndex(sa, ai))) * B.at(flatIndex(sb, bi));
    }
    Y.at(flatIndex(full, yi)) = static_cast<float>(s);
  });
  // Drop the axes that 1-D operands added; keep the batch axes numpy keeps.
  Shape out(full.begin(), full.end() - 2);
  size_t keptBatch = std::max(A.shape().size(), B.shape().size());
  keptBatch = keptBatch >= 2 ? keptBatch - 2 : 0;
  out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(keptBatch));
  if (A.rank() > 1) out.push_back(full[r - 2]);
  if (B.rank() > 1) out.push_back(full[r - 1]);
  Y.reshapeInPlace(out);
  return Y;
}

}  // namespace

class TestOpsNnLinear : public QObject {
  Q_OBJECT
 private slots:
  void matMulMatchesReferenceAndGradients() {
    std::vector<std::pair<Shape, Shape>> cases{
        {{3, 4}, {4, 5}},       {{2, 3, 4}, {4, 5}},       {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {3, 4, 2}},
        {{4}, {4, 3}},          {{2, 3, 4}, {4}},          {{4}, {4}},             {{1, 3, 4}, {2, 4, 2}},
        {{5, 2, 3}, {1, 3, 2}},
    };
    std::mt19937 rng(21);
    auto k = build("MatMul");
    QVERIFY(k.isOk());
    for (size_t i = 0; i < cases.size(); ++i) {
      Tensor A = randomTensor(cases[i].first, rng), B = randomTensor(cases[i].second, rng);
      RunContext ctx;
      ctx.threads = 2;
      std::string why;
      auto y = run(*k.value(), {&A, &B}, 1, ctx, &why);
      QVERIFY2(!y.empty(), why.c_str());
      Tensor ref = refMatMul(A, B);
      QCOMPARE(y[0].shape(), ref.shape());
      QVERIFY2(testutil::allClose(y[0], ref, 1e-5, 1e-6, &why), ("case " + std::to_string(i) + ": " + why).c_str());
      QVERIFY2(gradCheck(*k.value(), {A, B}, {0, 1}, ctx, rng, &why), ("case " + std::to_string(i) + ": " + why).c_str());
    }
    QCOMPARE(k.value()->flops({{2, 3, 4}, {4, 5}}, {{2, 3, 5}}), 2.0 * 2 * 3 * 5 * 4);
    Tensor A({2, 3}), B({4, 5});
    std::vector<Tensor> out(1);
    Status st = k.value()->forward({&A, &B}, {&out[0]}, RunContext{});
    QCOMPARE(st.kind(), ErrorKind::BadInput);
  }

  void batchNormInferenceMatchesFormula() {
    std::mt19937 rng(22);
    auto k = build("BatchNormalization", {{"epsilon", Attribute::ofFloat(1e-3f)}}, 15);
    QVERIFY(k.isOk());
    for (Shape s : {Shape{2, 3, 4, 5}, Shape{4, 3}, Shape{2, 3, 6}}) {
      int64_t C = s[1];
      Tensor X = randomTensor(s, rng), scale = randomTensor({C}, rng), B = randomTensor({C}, rng),
             mean = randomTensor({C}, rng), var = randomTensor({C}, rng, 0.5f, 2.f);
      auto y = run(*k.value(), {&X, &scale, &B, &mean, &var}, 1, RunContext{});
      QVERIFY(!y.empty());
      int64_t inner = X.numel() / (s[0] * C);
      double worst = 0;
      for (int64_t i = 0; i < X.numel(); ++i) {
        int64_t c = (i / inner) % C;
        double ref = (X.at(i) - mean.at(c)) / std::sqrt(var.at(c) + 1e-3) * scale.at(c) + B.at(c);
        worst = std::max(worst, std::fabs(ref - y[0].at(i)));
      }
      QVERIFY2(worst < 1e-5, std::to_string(worst).c_str());
      std::string why;
      QVERIFY2(gradCheck(*k.value(), {X, scale, B, mean, var}, {0, 1, 2, 3, 4}, RunContext{}, rng, &why), why.c_str());
    }
  }

  void batchNormTrainingUsesBatchStatistics() {
    std::mt19937 rng(23);
    const float momentum = 0.8f;
    Node node = makeNode("BatchNormalization", {{"momentum", Attribute::ofFloat(momentum)}}, 3);
    auto k = OpRegistry::instance().build(node, 15);
    QVERIFY(k.isOk());
    Shape s{3, 2, 4, 3};
    Tensor X = randomTensor(s, rng, -2.f, 3.f), scale = randomTensor({2}, rng), B = randomTensor({2}, rng),
           mean = randomTensor({2}, rng), var = randomTensor({2}, rng, 0.5f, 2.f);
    RunContext train;
    train.training = true;
    auto y = run(*k.value(), {&X, &scale, &B, &mean, &var}, 3, train);
    QVERIFY(!y.empty());
    const int64_t inner = 12, C = 2, N = 3;
    for (int64_t c = 0; c < C; ++c) {
      double m = 0, v = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) m += X.at((n * C + c) * inner + i);
      m /= N * inner;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) v += std::pow(X.at((n * C + c) * inner + i) - m, 2);
      v /= N * inner;  // biased, as ONNX specifies
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t e = (n * C + c) * inner + i;
          double ref = (X.at(e) - m) / std::sqrt(v + 1e-5) * scale.at(c) + B.at(c);
          QVERIFY(std::fabs(ref - y[0].at(e)) < 1e-5);
        }
      QVERIFY(std::fabs(y[1].at(c) - (mean.at(c) * momentum + m * (1 - momentum))) < 1e-6);
      QVERIFY(std::fabs(y[2].at(c) - (var.at(c) * momentum + v * (1 - momentum))) < 1e-6);
    }
    std::string why;
    // Through the batch statistics: X, scale and B have gradients; the running inputs get zero.
    QVERIFY2(gradCheck(*k.value(), {X, scale, B, mean, var}, {0, 1, 2, 3, 4}, train, rng, &why, 3), why.c_str());
    // training_mode = 1 (opset 14+) trains without the run context asking.
    auto km = build("BatchNormalization", {{"training_mode", Attribute::ofInt(1)}}, 15);
    QVERIFY(km.isOk());
    auto ym = run(*km.value(), {&X, &scale, &B, &mean, &var}, 1, RunContext{});
    auto yt = run(*k.value(), {&X, &scale, &B, &mean, &var}, 1, train);
    QVERIFY(std::fabs(ym[0].at(5) - yt[0].at(5)) < 1e-6);
    QVERIFY(!build("BatchNormalization", {{"training_mode", Attribute::ofInt(1)}}, 9).isOk());
  }

  void batchNormPerActivationAtOpset7() {
    auto k = build("BatchNormalization", {{"spatial", Attribute::ofInt(0)}}, 7);
    QVERIFY(k.isOk());
    std::mt19937 rng(24);
    Tensor X = randomTensor({2, 2, 3}, rng), scale = randomTensor({2, 3}, rng), B = randomTensor({2, 3}, rng),
           mean = randomTensor({2, 3}, rng), var = randomTensor({2, 3}, rng, 0.5f, 2.f);
    auto y = run(*k.value(), {&X, &scale, &B, &mean, &var}, 1, RunContext{});
    QVERIFY(!y.empty());
    for (int64_t i = 0; i < X.numel(); ++i) {
      int64_t a = i % 6;  // one statistic per activation
      double ref = (X.at(i) - mean.at(a)) / std::sqrt(var.at(a) + 1e-5) * scale.at(a) + B.at(a);
      QVERIFY(std::fabs(ref - y[0].at(i)) < 1e-5);
    }
    QCOMPARE(k.value()->flops({{2, 2, 3}}, {{2, 2, 3}}), 24.0);
  }
};

QTEST_APPLESS_MAIN(TestOpsNnLinear)
#include "test_ops_nn_linear.moc"
