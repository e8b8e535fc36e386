// Whole-graph gradients: computeGradients against central finite differences
// of the mean cross-entropy, on small versions of the architectures.
#include <QtTest>

#include <cmath>
#include <map>
#include <random>

#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/executor.h"
#include "topiary/train.h"
#include "arch/graph_builder.h"
#include "train/autograd.h"

using namespace topiary;

namespace {

// Mean cross-entropy in double from the executor's logits.
double lossOf(Executor& ex, const Tensor& x, const std::vector<int>& labels) {
  if (!ex.run(x).isOk()) return NAN;
  const Tensor& z = ex.output(0);
  int64_t n = z.dim(0), c = z.dim(1);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = z.f() + i * c;
    double mx = *std::max_element(row, row + c), s = 0;
    for (int64_t k = 0; k < c; ++k) s += std::exp(row[k] - mx);
    total += std::log(s) + mx - row[labels[static_cast<size_t>(i)]];
  }
  return total / static_cast<double>(n);
}

}  // namespace

class TestTrainGradients : public QObject {
  Q_OBJECT
 private slots:
  void matchesFiniteDifferences_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("size");
    QTest::newRow("lenet5") << "lenet5" << 12;
    QTest::newRow("resnet8") << "resnet8" << 8;
    QTest::newRow("mobilenet-tiny") << "mobilenet-tiny" << 8;
    QTest::newRow("lenet-300-100") << "lenet-300-100" << 6;
    QTest::newRow("vgg-small") << "vgg-small" << 8;
  }
  void matchesFiniteDifferences() {
    QFETCH(QString, arch);
    QFETCH(int, size);
    ArchOptions o;
    o.imageSize = size;
    o.classes = 5;
    o.seed = 3;
    auto gr = buildArchitecture(arch.toStdString(), o);
    QVERIFY2(gr.isOk(), gr.status().message().c_str());
    Graph& g = gr.value();
    // Non-trivial BatchNorm statistics and affine parameters, so that the
    // inference-mode BatchNorm path is exercised with more than identity values.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-0.3f, 0.3f);
    for (auto& kv : g.initializers) {
      const std::string& n = kv.first;
      auto ends = [&](const char* s) { return n.size() > strlen(s) && n.compare(n.size() - strlen(s), strlen(s), s) == 0; };
      if (ends(".mean") || ends(".bias"))
        for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.at(i) = u(rng);
      if (ends(".var") || ends(".scale"))
        for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.at(i) = 1.f + u(rng);
    }
    const int64_t n = 3;
    Tensor x(DType::Float, {n, 1, size, size});
    for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = u(rng) * 3.f;
    std::vector<int> labels{0, 3, 4};
    auto grads = computeGradients(g, x, labels, {}, 1);
    QVERIFY2(grads.isOk(), grads.status().message().c_str());
    auto ex = Executor::create(g, {1});
    QVERIFY(ex.isOk());
    double base = lossOf(**ex, x, labels);
    QVERIFY(std::fabs(base - grads->loss) < 1e-4 * std::max(1.0, base));
    // Central differences on a few elements of every parameter tensor. A
    // kink (ReLU, max pooling) can spoil one element; the aggregate relative
    // error over all sampled elements must stay small.
    double errNorm = 0, refNorm = 0;
    int checked = 0;
    const float eps = 2e-3f;
    for (auto& kv : grads->weightGrads) {
      Tensor& w = g.initializers.at(kv.first);
      QCOMPARE(kv.second.shape(), w.shape());
      for (int t = 0; t < 4; ++t) {
        int64_t i = static_cast<int64_t>(rng() % static_cast<uint32_t>(w.numel()));
        float saved = w.at(i);
        w.at(i) = saved + eps;
        double lp = lossOf(**ex, x, labels);
        w.at(i) = saved - eps;
        double lm = lossOf(**ex, x, labels);
        w.at(i) = saved;
        double numeric = (lp - lm) / (2.0 * eps), analytic = kv.second.at(i);
        errNorm += (numeric - analytic) * (numeric - analytic);
        refNorm += numeric * numeric + analytic * analytic;
        ++checked;
      }
    }
    QVERIFY(checked >= 8);
    QVERIFY(refNorm > 1e-8);
    double rel = std::sqrt(errNorm / refNorm);
    QVERIFY2(rel < 0.03, qPrintable(QString("relative gradient error %1 over %2 elements").arg(rel).arg(checked)));
    // BatchNorm running statistics are not parameters.
    for (const auto& kv : grads->weightGrads) QVERIFY(kv.first.find(".mean") == std::string::npos);
  }

  // Training mode: BatchNorm normalises with the batch's own statistics, so
  // its backward pass must include the terms through the mean and variance.
  void trainingModeBatchNormMatchesFiniteDifferences() {
    arch::GraphBuilder b("bn", 3);
    std::string x = b.input("input", {2, 4, 4});
    x = b.conv(x, "c", 2, 3, 3, 1, 1, 1, false);
    x = b.batchNorm(x, "bn", 3);
    x = b.gemm(b.flatten(x, "f"), "fc", 48, 4);
    b.output(x, "logits", {4});
    auto g = b.finish();
    QVERIFY(g.isOk());
    Tensor in(DType::Float, {4, 2, 4, 4});
    for (int64_t i = 0; i < in.numel(); ++i) in.at(i) = static_cast<float>(std::sin(0.7 * static_cast<double>(i)));
    std::vector<int> labels{0, 1, 2, 3};
    auto a = training::Autograd::create(g.value(), 1);
    QVERIFY2(a.isOk(), a.status().message().c_str());
    auto lossAt = [&]() {
      double l = 0;
      int64_t c = 0;
      if (!a.value()->forward(in, true).isOk() || !a.value()->loss(labels, l, c).isOk()) return double(NAN);
      return l;
    };
    lossAt();
    QVERIFY(a.value()->backward().isOk());
    // Copy every gradient first: the finite-difference passes below run
    // loss() again, which starts a new backward and invalidates them.
    const std::vector<std::string> names{"c.weight", "bn.scale", "bn.bias", "fc.weight"};
    std::map<std::string, Tensor> grads;
    for (const auto& name : names) {
      const Tensor* gp = a.value()->gradOf(name);
      QVERIFY2(gp != nullptr, qPrintable(QString("no gradient reached %1").arg(name.c_str())));
      grads[name] = *gp;
    }
    double errNorm = 0, refNorm = 0;
    for (const auto& name : names) {
      const Tensor& grad = grads.at(name);
      Tensor& w = g->initializers.at(name);
      for (int k = 0; k < 3; ++k) {
        int64_t i = (k * 7) % w.numel();
        float s = w.at(i);
        w.at(i) = s + 1e-2f;
        double lp = lossAt();
        w.at(i) = s - 1e-2f;
        double lm = lossAt();
        w.at(i) = s;
        double numeric = (lp - lm) / 2e-2, analytic = grad.at(i);
        errNorm += (numeric - analytic) * (numeric - analytic);
        refNorm += numeric * numeric + analytic * analytic;
      }
    }
    double rel = std::sqrt(errNorm / refNorm);
    QVERIFY2(rel < 0.03, qPrintable(QString("relative gradient error %1").arg(rel)));
  }

  void activationGradientsAreReturned() {
    ArchOptions o;
    o.imageSize = 12;
    auto g = buildArchitecture("lenet5", o);
    QVERIFY(g.isOk());
    Tensor x(DType::Float, {2, 1, 12, 12});
    for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = static_cast<float>(i % 7) / 7.f;
    auto r = computeGradients(g.value(), x, {1, 2}, {"relu1", "logits"}, 1);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QCOMPARE(r->activations.at("relu1").shape(), (Shape{2, 6, 12, 12}));
    QCOMPARE(r->activationGrads.at("relu1").shape(), (Shape{2, 6, 12, 12}));
    // dL/dlogits = (softmax - onehot) / N: each row sums to zero.
    const Tensor& gl = r->activationGrads.at("logits");
    for (int i = 0; i < 2; ++i) {
      double s = 0;
      for (int k = 0; k < 10; ++k) s += gl.at(i * 10 + k);
      QVERIFY(std::fabs(s) < 1e-6);
    }
    QVERIFY(gl.at(1) < 0);  // the label's entry
    auto bad = computeGradients(g.value(), x, {1, 2}, {"no_such_tensor"}, 1);
    QCOMPARE(bad.status().kind(), ErrorKind::BadInput);
  }
};

QTEST_GUILESS_MAIN(TestTrainGradients)
#include "test_train_gradients.moc"
