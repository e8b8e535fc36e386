// Mod, Shrink, Celu, ThresholdedRelu, IsNaN, IsInf and the trigonometric and
// hyperbolic functions beyond what the ONNX test data covers: integer Mod
// edge cases (signs, division by zero, MIN % -1), broadcasting, attribute
// errors at build time, declined types, and gradients by finite differences.
#include <QtTest>
#include <cmath>
#include <limits>

#include "test_ops_elementwise_common.h"

using namespace topiary;
using namespace ewtest;

class TestOpsElementwiseMore : public QObject {
  Q_OBJECT
 private slots:
  void modIntegerSigns() {
    Tensor A = Tensor::fromVector<int32_t>({6}, {-7, 7, -7, 7, 5, INT32_MIN});
    Tensor B = Tensor::fromVector<int32_t>({6}, {3, -3, -3, 3, 0, -1});
    // fmod = 0: the sign of the divisor (Python); x % 0 and MIN % -1 are 0.
    auto py = run("Mod", {}, {&A, &B}, 1, 13);
    QVERIFY2(py.status.isOk(), py.status.message().c_str());
    QCOMPARE(py.outs[0].dtype(), DType::Int32);
    QCOMPARE(py.outs[0].toInt64s(), (std::vector<int64_t>{2, -2, -1, 1, 0, 0}));
    // fmod = 1: the sign of the dividend (C).
    auto c = run("Mod", {{"fmod", Attribute::ofInt(1)}}, {&A, &B}, 1, 13);
    QVERIFY(c.status.isOk());
    QCOMPARE(c.outs[0].toInt64s(), (std::vector<int64_t>{-1, 1, -1, 1, 0, 0}));
    Tensor U = Tensor::fromVector<uint8_t>({3}, {250, 7, 9});
    Tensor V = Tensor::fromVector<uint8_t>({1}, {4});
    auto u = run("Mod", {}, {&U, &V}, 1, 13);  // broadcast
    QVERIFY(u.status.isOk());
    QCOMPARE(u.outs[0].dtype(), DType::UInt8);
    QCOMPARE(u.outs[0].toInt64s(), (std::vector<int64_t>{2, 3, 1}));
  }

  void modFloat() {
    Tensor A = Tensor::fromVector<float>({2, 2}, {-5.5f, 5.5f, -5.5f, 5.5f});
    Tensor B = Tensor::fromVector<float>({2, 1}, {2.f, -2.f});
    auto c = run("Mod", {{"fmod", Attribute::ofInt(1)}}, {&A, &B}, 1, 13);
    QVERIFY(c.status.isOk());
    QCOMPARE(c.outs[0].shape(), (Shape{2, 2}));
    QCOMPARE(c.outs[0].toDoubles(), (std::vector<double>{-1.5, 1.5, -1.5, 1.5}));
    auto py = run("Mod", {}, {&A, &B}, 1, 13);  // numpy's mod
    QVERIFY(py.status.isOk());
    QCOMPARE(py.outs[0].toDoubles(), (std::vector<double>{0.5, 1.5, -1.5, -0.5}));
    // Attribute errors come when the kernel is built; mixed types at run time.
    QVERIFY(!build("Mod", {{"fmod", Attribute::ofInt(2)}}, {&A, &B}, 1, 13));
    Tensor I = Tensor::fromVector<int32_t>({1}, {2});
    QCOMPARE(run("Mod", {}, {&A, &I}, 1, 13).status.kind(), ErrorKind::BadInput);
    Tensor H(DType::Float16, {2});
    QCOMPARE(run("Mod", {{"fmod", Attribute::ofInt(1)}}, {&H, &H}, 1, 13).status.kind(), ErrorKind::Unsupported);
  }

  void shrinkFloatAndInt() {
    Tensor X = Tensor::fromVector<float>({5}, {-2.f, -1.f, 0.5f, 1.f, 3.f});
    auto soft = run("Shrink", {{"lambd", Attribute::ofFloat(1.f)}, {"bias", Attribute::ofFloat(1.f)}}, {&X});
    QVERIFY(soft.status.isOk());
    QCOMPARE(soft.outs[0].toDoubles(), (std::vector<double>{-1, 0, 0, 0, 2}));
    Tensor I = Tensor::fromVector<int8_t>({4}, {-128, -1, 2, 127});
    auto si = run("Shrink", {{"lambd", Attribute::ofFloat(1.5f)}, {"bias", Attribute::ofFloat(-10.f)}}, {&I});
    QVERIFY(si.status.isOk());
    QCOMPARE(si.outs[0].dtype(), DType::Int8);
    QCOMPARE(si.outs[0].toInt64s(), (std::vector<int64_t>{-128, 0, 12, 127}));  // saturates
  }

  void activationsMatchFormulas() {
    Tensor X = Tensor::fromVector<float>({5}, {-3.f, -0.5f, 0.f, 0.5f, 2.f});
    auto celu = run("Celu", {{"alpha", Attribute::ofFloat(2.f)}}, {&X});
    QVERIFY(celu.status.isOk());
    std::vector<double> want;
    for (double x : X.toDoubles()) want.push_back(x > 0 ? x : 2.0 * std::expm1(x / 2.0));
    QVERIFY(worstRatio(celu.outs[0], want, 1e-6, 1e-7) <= 1.0);
    QVERIFY(!build("Celu", {{"alpha", Attribute::ofFloat(0.f)}}, {&X}));
    auto tr = run("ThresholdedRelu", {{"alpha", Attribute::ofFloat(0.5f)}}, {&X}, 1, 10);
    QVERIFY(tr.status.isOk());
    QCOMPARE(tr.outs[0].toDoubles(), (std::vector<double>{0, 0, 0, 0, 2}));  // strictly above alpha
    QVERIFY(!build("Celu", {}, {&X}, 1, 11));                                // not claimed before opset 12
  }

  void isNanAndIsInf() {
    const double inf = std::numeric_limits<double>::infinity();
    Tensor X = Tensor::fromVector<double>({4}, {1.0, -inf, inf, std::nan("")});
    auto nan = run("IsNaN", {}, {&X});
    QVERIFY(nan.status.isOk());
    QCOMPARE(nan.outs[0].dtype(), DType::Bool);
    QCOMPARE(nan.outs[0].toInt64s(), (std::vector<int64_t>{0, 0, 0, 1}));
    auto both = run("IsInf", {}, {&X});
    QVERIFY(both.status.isOk());
    QCOMPARE(both.outs[0].toInt64s(), (std::vector<int64_t>{0, 1, 1, 0}));
    auto neg = run("IsInf", {{"detect_positive", Attribute::ofInt(0)}}, {&X});
    QVERIFY(neg.status.isOk());
    QCOMPARE(neg.outs[0].toInt64s(), (std::vector<int64_t>{0, 1, 0, 0}));
    Tensor I = Tensor::fromVector<int32_t>({1}, {3});
    QCOMPARE(run("IsNaN", {}, {&I}).status.kind(), ErrorKind::Unsupported);
    QCOMPARE(run("IsInf", {}, {&I}).status.kind(), ErrorKind::Unsupported);
  }

  void trigonometricMatchStd_data() {
    QTest::addColumn<QString>("op");
    QTest::addColumn<float>("lo");
    QTest::addColumn<float>("hi");
    QTest::newRow("Tan") << "Tan" << -1.2f << 1.2f;
    QTest::newRow("Sinh") << "Sinh" << -3.f << 3.f;
    QTest::newRow("Cosh") << "Cosh" << -3.f << 3.f;
    QTest::newRow("Asin") << "Asin" << -0.9f << 0.9f;
    QTest::newRow("Acos") << "Acos" << -0.9f << 0.9f;
    QTest::newRow("Atan") << "Atan" << -3.f << 3.f;
    QTest::newRow("Asinh") << "Asinh" << -3.f << 3.f;
    QTest::newRow("Acosh") << "Acosh" << 1.2f << 4.f;
    QTest::newRow("Atanh") << "Atanh" << -0.9f << 0.9f;
  }
  void trigonometricMatchStd() {
    QFETCH(QString, op);
    QFETCH(float, lo);
    QFETCH(float, hi);
    const std::string name = op.toStdString();
    const std::map<std::string, double (*)(double)> fns = {
        {"Tan", std::tan},   {"Sinh", std::sinh},   {"Cosh", std::cosh},   {"Asin", std::asin},  {"Acos", std::acos},
        {"Atan", std::atan}, {"Asinh", std::asinh}, {"Acosh", std::acosh}, {"Atanh", std::atanh}};
    std::mt19937 rng(5);
    Tensor X = randomTensor(rng, {3, 7}, lo, hi);
    auto r = run(name, {}, {&X});
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    std::vector<double> want;
    for (double x : X.toDoubles()) want.push_back(fns.at(name)(x));
    QVERIFY(worstRatio(r.outs[0], want, 1e-6, 1e-6) <= 1.0);
    auto k = build(name, {}, {&X});
    QVERIFY(k);
    QVERIFY(gradCheck(*k, {X}, {0}, rng) < 1e-2);
  }

  void activationGradients() {
    std::mt19937 rng(9);
    Tensor X = randomTensor(rng, {4, 5}, -2.f, 2.f, {-0.7f, 0.7f, 0.f}, 0.05f);
    for (const auto& [op, attrs] : std::vector<std::pair<std::string, Attrs>>{
             {"Celu", {{"alpha", Attribute::ofFloat(0.8f)}}},
             {"ThresholdedRelu", {{"alpha", Attribute::ofFloat(0.7f)}}},
             {"Shrink", {{"lambd", Attribute::ofFloat(0.7f)}, {"bias", Attribute::ofFloat(0.2f)}}}}) {
      auto k = build(op, attrs, {&X});
      QVERIFY(k);
      QVERIFY2(gradCheck(*k, {X}, {0}, rng) < 1e-2, op.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestOpsElementwiseMore)
#include "test_ops_elementwise_more.moc"
