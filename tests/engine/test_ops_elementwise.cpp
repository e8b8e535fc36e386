// Elementwise operators against naive references: broadcasting arithmetic
// (float and integer), unary functions, softmax, Clip, ReduceMean, Cast,
// Dropout, plus the broadcasting helper itself. Gradients are checked in
// test_ops_elementwise_grad.cpp; ONNX test data by the conformance runner.
#include <QtTest>
#include <cmath>
#include <limits>

#include "ops/elementwise/broadcast.h"
#include "test_ops_elementwise_common.h"

using namespace topiary;
using namespace ewtest;

namespace {

const std::vector<std::pair<Shape, Shape>>& broadcastPairs() {
  static const std::vector<std::pair<Shape, Shape>> pairs = {
      {{2, 3, 4, 5}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {5}},
      {{2, 3, 4, 5}, {3, 1, 1}},
      {{2, 3, 4, 5}, {1}},
      {{2, 3, 4, 5}, {2, 1, 4, 1}},
      {{2, 3, 4, 5}, {}},
      {{5}, {2, 3, 4, 5}},
      {{3, 1, 1}, {2, 3, 4, 5}},
      {{3, 1, 5}, {1, 4, 1}},
      {{2, 3, 1, 1}, {2, 3, 4, 5}},
      {{}, {}},
      {{1, 1}, {7}},
  };
  return pairs;
}

double refOp(const std::string& op, double a, double b) {
  if (op == "Add") return a + b;
  if (op == "Sub") return a - b;
  if (op == "Mul") return a * b;
  if (op == "Div") return a / b;
  return std::pow(a, b);
}

}  // namespace

class TestOpsElementwise : public QObject {
  Q_OBJECT
 private slots:
  void binaryFloatMatchesReference_data() {
    QTest::addColumn<QString>("op");
    for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow"}) QTest::newRow(op) << QString(op);
  }
  void binaryFloatMatchesReference() {
    QFETCH(QString, op);
    std::mt19937 rng(7);
    const std::string name = op.toStdString();
    auto pairs = broadcastPairs();
    // Random shape pairs: b is a with some dims set to 1 and leading dims dropped.
    for (int t = 0; t < 20; ++t) {
      Shape a;
      int rank = std::uniform_int_distribution<int>(0, 5)(rng);
      for (int d = 0; d < rank; ++d) a.push_back(std::uniform_int_distribution<int64_t>(1, 4)(rng));
      Shape b = a;
      for (auto& d : b)
        if (rng() % 2) d = 1;
      b.erase(b.begin(), b.begin() + std::uniform_int_distribution<int>(0, rank)(rng));
      if (rng() % 2) std::swap(a, b);
      pairs.push_back({a, b});
    }
    for (const auto& [sa, sb] : pairs) {
      // Pow needs positive bases; Div needs divisors away from zero.
      Tensor A = randomTensor(rng, sa, name == "Pow" ? 0.1f : -2.f, 2.f);
      Tensor B = randomTensor(rng, sb, -2.f, 2.f, {0.f}, 0.2f);
      auto r = run(name, {}, {&A, &B});
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      Shape so;
      auto want = refBinary(
          A.toDoubles(), sa, B.toDoubles(), sb, [&](double x, double y) { return refOp(name, x, y); }, &so);
      QCOMPARE(r.outs[0].shape(), so);
      QCOMPARE(r.outs[0].dtype(), DType::Float);
      QVERIFY2(worstRatio(r.outs[0], want, 1e-5, 1e-6) <= 1.0, (shapeToString(sa) + " " + shapeToString(sb)).c_str());
    }
  }

  // Large tensors split across threads at arbitrary element boundaries.
  void binaryParallelSplitsMatchSerial() {
    std::mt19937 rng(3);
    for (const auto& [sa, sb] : std::vector<std::pair<Shape, Shape>>{
             {{2, 16, 37, 41}, {16, 1, 1}}, {{3, 97, 333}, {333}}, {{5, 7, 1, 999}, {1, 1, 13, 1}}, {{100003}, {1}}}) {
      Tensor A = randomTensor(rng, sa), B = randomTensor(rng, sb);
      auto serial = run("Mul", {}, {&A, &B}, 1, 17, 1);
      auto parallel = run("Mul", {}, {&A, &B}, 1, 17, 3);
      QVERIFY(serial.status.isOk() && parallel.status.isOk());
      auto want = refBinary(
          A.toDoubles(), sa, B.toDoubles(), sb, [](double x, double y) { return x * y; }, nullptr);
      QVERIFY(worstRatio(parallel.outs[0], want, 1e-6, 1e-7) <= 1.0);
      QCOMPARE(std::memcmp(serial.outs[0].raw(), parallel.outs[0].raw(), serial.outs[0].bytes()), 0);
    }
  }

  void integerArithmetic() {
    for (DType dt : {DType::Int64, DType::Int32, DType::UInt8, DType::Int8}) {
      Tensor A = Tensor::fromVector<double>({2, 3}, {7, 17, 100, 0, 5, 9}).cast(dt);
      Tensor B = Tensor::fromVector<double>({3}, {2, 3, 0}).cast(dt);
      const bool isUnsigned = dt == DType::UInt8;
      auto add = run("Add", {}, {&A, &B}), sub = run("Sub", {}, {&A, &B}), mul = run("Mul", {}, {&A, &B}),
           div = run("Div", {}, {&A, &B});
      QVERIFY(add.status.isOk() && sub.status.isOk() && mul.status.isOk() && div.status.isOk());
      QCOMPARE(add.outs[0].dtype(), dt);
      auto a = A.toInt64s(), b = B.toInt64s();
      for (int i = 0; i < 6; ++i) {
        int64_t x = a[static_cast<size_t>(i)], y = b[static_cast<size_t>(i % 3)];
        QCOMPARE(add.outs[0].toInt64s()[static_cast<size_t>(i)],
                 Tensor::fromVector<int64_t>({1}, {x + y}).cast(dt).toInt64s()[0]);
        QCOMPARE(mul.outs[0].toInt64s()[static_cast<size_t>(i)],
                 Tensor::fromVector<int64_t>({1}, {x * y}).cast(dt).toInt64s()[0]);
        // Integer division truncates toward zero; by zero gives 0.
        QCOMPARE(div.outs[0].toInt64s()[static_cast<size_t>(i)], y == 0 ? 0 : x / y);
        if (!isUnsigned) QCOMPARE(sub.outs[0].toInt64s()[static_cast<size_t>(i)], x - y);
      }
    }
    // Overflowing int64 arithmetic wraps instead of trapping.
    const int64_t mn = std::numeric_limits<int64_t>::min();
    Tensor A = Tensor::fromVector<int64_t>({2}, {mn, std::numeric_limits<int64_t>::max()});
    Tensor B = Tensor::fromVector<int64_t>({2}, {-1, 1});
    QCOMPARE(run("Div", {}, {&A, &B}).outs[0].toInt64s()[0], mn);
    QCOMPARE(run("Add", {}, {&A, &B}).outs[0].toInt64s()[1], mn);
    Tensor C = Tensor::fromVector<int64_t>({2}, {-7, 7}), D = Tensor::fromVector<int64_t>({1}, {2});
    QCOMPARE(run("Div", {}, {&C, &D}).outs[0].toInt64s(), (std::vector<int64_t>{-3, 3}));
  }

  void binaryErrorsNameTheProblem() {
    Tensor A(DType::Float, {2, 3}), B(DType::Float, {4});
    auto r = run("Add", {}, {&A, &B});
    QCOMPARE(r.status.kind(), ErrorKind::BadInput);
    QVERIFY(r.status.message().find("[2,3]") != std::string::npos);
    Tensor C(DType::Int64, {3});
    auto mixed = run("Mul", {}, {&A, &C});
    QCOMPARE(mixed.status.kind(), ErrorKind::BadInput);
    QVERIFY(mixed.status.message().find("int64") != std::string::npos);
  }

  // Opset 6 `broadcast` + `axis`: b's dims line up with a's from `axis` on.
  void legacyAxisBroadcast() {
    std::mt19937 rng(4);
    Tensor A = randomTensor(rng, {2, 3, 4, 5}), B = randomTensor(rng, {3, 4});
    auto k = build("Mul", {{"broadcast", Attribute::ofInt(1)}, {"axis", Attribute::ofInt(1)}}, {&A, &B}, 1, 6);
    QVERIFY(k);
    auto r = forward(*k, {&A, &B});
    QVERIFY(r.status.isOk());
    auto want = refBinary(
        A.toDoubles(), A.shape(), B.toDoubles(), {3, 4, 1}, [](double x, double y) { return x * y; }, nullptr);
    QVERIFY(worstRatio(r.outs[0], want, 1e-6, 1e-7) <= 1.0);
    Tensor C = randomTensor(rng, {4, 5, 6});
    auto bad = forward(*k, {&A, &C});
    QCOMPARE(bad.status.kind(), ErrorKind::BadInput);
  }

  void outputsKeepTheirBufferAcrossRuns() {
    std::mt19937 rng(1);
    Tensor A = randomTensor(rng, {8, 16, 9, 9}), B = randomTensor(rng, {16, 1, 1});
    auto k = build("Add", {}, {&A, &B});
    Tensor y;
    RunContext ctx;
    QVERIFY(k->forward({&A, &B}, {&y}, ctx).isOk());
    const void* p = y.raw();
    QVERIFY(k->forward({&A, &B}, {&y}, ctx).isOk());
    QCOMPARE(y.raw(), p);
  }

  void unaryMatchesReference() {
    struct U {
      const char* op;
      Attrs attrs;
      std::function<double(double)> f;
    };
    std::vector<U> ops = {
        {"Relu", {}, [](double x) { return x > 0 ? x : 0; }},
        {"LeakyRelu", {{"alpha", Attribute::ofFloat(0.3f)}}, [](double x) { return x >= 0 ? x : 0.3 * x; }},
        {"LeakyRelu", {}, [](double x) { return x >= 0 ? x : 0.01 * x; }},
        {"Sigmoid", {}, [](double x) { return 1 / (1 + std::exp(-x)); }},
        {"HardSigmoid", {}, [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }},
        {"HardSigmoid",
         {{"alpha", Attribute::ofFloat(0.5f)}, {"beta", Attribute::ofFloat(0.6f)}},
         [](double x) { return std::clamp(0.5 * x + 0.6, 0.0, 1.0); }},
        {"HardSwish", {}, [](double x) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }},
        {"Tanh", {}, [](double x) { return std::tanh(x); }},
        {"Exp", {}, [](double x) { return std::exp(x); }},
        {"Log", {}, [](double x) { return std::log(std::fabs(x)); }},
        {"Sqrt", {}, [](double x) { return std::sqrt(std::fabs(x)); }},
        {"Neg", {}, [](double x) { return -x; }},
        {"Abs", {}, [](double x) { return std::fabs(x); }},
        {"Reciprocal", {}, [](double x) { return 1 / x; }},
        {"Erf", {}, [](double x) { return std::erf(x); }},
        {"Identity", {}, [](double x) { return x; }},
        {"Elu", {{"alpha", Attribute::ofFloat(0.5f)}}, [](double x) { return x > 0 ? x : 0.5 * std::expm1(x); }},
        {"Selu", {}, [](double x) { return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * std::expm1(x)); }},
        {"Softplus", {}, [](double x) { return std::log1p(std::exp(x)); }},
        {"Softsign", {}, [](double x) { return x / (1 + std::fabs(x)); }},
        {"Sin", {}, [](double x) { return std::sin(x); }},
        {"Cos", {}, [](double x) { return std::cos(x); }},
        {"Floor", {}, [](double x) { return std::floor(x); }},
        {"Ceil", {}, [](double x) { return std::ceil(x); }},
        {"Sign", {}, [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }},
    };
    std::mt19937 rng(11);
    for (const auto& u : ops) {
      Tensor X = randomTensor(rng, {3, 4, 5}, -5.f, 5.f, {0.f}, 0.05f);
      const std::string op = u.op;
      if (op == "Log" || op == "Sqrt")
        for (int64_t i = 0; i < X.numel(); ++i) X.at(i) = std::fabs(X.at(i));
      auto r = run(op, u.attrs, {&X}, 1, 17, 2);
      QVERIFY2(r.status.isOk(), op.c_str());
      std::vector<double> want;
      for (double v : X.toDoubles()) want.push_back(u.f(v));
      QCOMPARE(r.outs[0].shape(), X.shape());
      QVERIFY2(worstRatio(r.outs[0], want, 1e-5, 1e-6) <= 1.0, op.c_str());
    }
  }

  void roundHalvesToEvenAndIntegerNegAbs() {
    Tensor X = Tensor::fromVector<float>({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.6f});
    QCOMPARE(run("Round", {}, {&X}).outs[0].toDoubles(), (std::vector<double>{0, 2, 2, -0, -2, 3}));
    Tensor I = Tensor::fromVector<int64_t>({3}, {-5, 0, 7});
    auto neg = run("Neg", {}, {&I}), abs = run("Abs", {}, {&I});
    QCOMPARE(neg.outs[0].dtype(), DType::Int64);
    QCOMPARE(neg.outs[0].toInt64s(), (std::vector<int64_t>{5, 0, -7}));
    QCOMPARE(abs.outs[0].toInt64s(), (std::vector<int64_t>{5, 0, 7}));
  }

  void comparisonsAndLogic() {
    std::mt19937 rng(2);
    Tensor A = randomTensor(rng, {2, 3, 4}), B = randomTensor(rng, {3, 1});
    A.at(5) = B.at(1);  // one exact tie for Equal / LessOrEqual
    struct C {
      const char* op;
      std::function<bool(double, double)> f;
    };
    for (const C& c : std::vector<C>{{"Equal", [](double a, double b) { return a == b; }},
                                     {"Less", [](double a, double b) { return a < b; }},
                                     {"Greater", [](double a, double b) { return a > b; }},
                                     {"LessOrEqual", [](double a, double b) { return a <= b; }},
                                     {"GreaterOrEqual", [](double a, double b) { return a >= b; }}}) {
      for (DType dt : {DType::Float, DType::Int64}) {
        Tensor a = A.cast(dt), b = B.cast(dt);
        auto r = run(c.op, {}, {&a, &b});
        QVERIFY2(r.status.isOk(), c.op);
        QCOMPARE(r.outs[0].dtype(), DType::Bool);
        auto want = refBinary(
            a.toDoubles(), a.shape(), b.toDoubles(), b.shape(),
            [&](double x, double y) { return c.f(x, y) ? 1.0 : 0.0; }, nullptr);
        QVERIFY2(worstRatio(r.outs[0], want, 0, 1e-9) <= 1.0, c.op);
      }
    }
    Tensor P(DType::Bool, {4}), Q(DType::Bool, {2, 1});
    for (int i = 0; i < 4; ++i) P.data<uint8_t>()[i] = i % 2;
    Q.data<uint8_t>()[1] = 1;
    auto andR = run("And", {}, {&P, &Q}), orR = run("Or", {}, {&P, &Q}), xorR = run("Xor", {}, {&P, &Q}),
         notR = run("Not", {}, {&P});
    QCOMPARE(andR.outs[0].shape(), (Shape{2, 4}));
    QCOMPARE(andR.outs[0].toInt64s(), (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 0, 1}));
    QCOMPARE(orR.outs[0].toInt64s(), (std::vector<int64_t>{0, 1, 0, 1, 1, 1, 1, 1}));
    QCOMPARE(xorR.outs[0].toInt64s(), (std::vector<int64_t>{0, 1, 0, 1, 1, 0, 1, 0}));
    QCOMPARE(notR.outs[0].toInt64s(), (std::vector<int64_t>{1, 0, 1, 0}));
    QCOMPARE(run("And", {}, {&A, &B}).status.kind(), ErrorKind::BadInput);
  }

  void whereSelectsWithBroadcasting() {
    std::mt19937 rng(6);
    Tensor cond(DType::Bool, {3, 1});
    cond.data<uint8_t>()[0] = 1;
    cond.data<uint8_t>()[2] = 1;
    for (DType dt : {DType::Float, DType::Int64, DType::UInt8}) {
      Tensor X = randomTensor(rng, {2, 3, 4}, 0.f, 100.f).cast(dt), Z = randomTensor(rng, {4}, 0.f, 100.f).cast(dt);
      auto r = run("Where", {}, {&cond, &X, &Z});
      QVERIFY(r.status.isOk());
      QCOMPARE(r.outs[0].shape(), (Shape{2, 3, 4}));
      QCOMPARE(r.outs[0].dtype(), dt);
      auto x = X.toDoubles(), z = Z.toDoubles(), y = r.outs[0].toDoubles();
      for (int64_t i = 0; i < 24; ++i) {
        int64_t row = (i / 4) % 3;
        QCOMPARE(y[static_cast<size_t>(i)], row != 1 ? x[static_cast<size_t>(i)] : z[static_cast<size_t>(i % 4)]);
      }
    }
    Tensor notBool(DType::Float, {3, 1}), X(DType::Float, {3});
    QCOMPARE(run("Where", {}, {&notBool, &X, &X}).status.kind(), ErrorKind::BadInput);
  }

  void variadicMaxMinSumMean() {
    std::mt19937 rng(8);
    Tensor A = randomTensor(rng, {2, 3}), B = randomTensor(rng, {3}), C = randomTensor(rng, {2, 1});
    auto a = A.toDoubles(), b = B.toDoubles(), c = C.toDoubles();
    auto mx = run("Max", {}, {&A, &B, &C}), mn = run("Min", {}, {&A, &B, &C}), sm = run("Sum", {}, {&A, &B, &C}),
         me = run("Mean", {}, {&A, &B, &C});
    QVERIFY(mx.status.isOk() && mn.status.isOk() && sm.status.isOk() && me.status.isOk());
    QCOMPARE(mx.outs[0].shape(), (Shape{2, 3}));
    for (size_t i = 0; i < 6; ++i) {
      double x = a[i], y = b[i % 3], z = c[i / 3];
      QCOMPARE(mx.outs[0].toDoubles()[i], std::max({x, y, z}));
      QCOMPARE(mn.outs[0].toDoubles()[i], std::min({x, y, z}));
      QVERIFY(std::fabs(sm.outs[0].toDoubles()[i] - (x + y + z)) < 1e-5);
      QVERIFY(std::fabs(me.outs[0].toDoubles()[i] - (x + y + z) / 3) < 1e-5);
    }
    // One input: a copy; integer Max; float-only Sum.
    QCOMPARE(run("Max", {}, {&B}).outs[0].toDoubles(), b);
    Tensor I = Tensor::fromVector<int32_t>({3}, {1, -5, 9}), J = Tensor::fromVector<int32_t>({1}, {2});
    QCOMPARE(run("Max", {}, {&I, &J}).outs[0].toInt64s(), (std::vector<int64_t>{2, 2, 9}));
    QCOMPARE(run("Sum", {}, {&I, &J}).status.kind(), ErrorKind::Unsupported);
  }

  void castLikeTakesTheSecondType() {
    Tensor X = Tensor::fromVector<float>({2}, {2.7f, -1.2f}), like(DType::Int32, {1});
    auto r = run("CastLike", {}, {&X, &like}, 1, 15);
    QVERIFY(r.status.isOk());
    QCOMPARE(r.outs[0].dtype(), DType::Int32);
    QCOMPARE(r.outs[0].toInt64s(), (std::vector<int64_t>{2, -1}));
  }

  void softmaxAlongAxis() {
    std::mt19937 rng(5);
    Shape s{2, 3, 4, 5};
    Tensor X = randomTensor(rng, s, -10.f, 10.f);
    auto x = X.toDoubles();
    for (int opset : {11, 13}) {
      for (int64_t axis : {0, 1, 2, 3, -1, -3}) {
        int64_t ax = axis < 0 ? axis + 4 : axis;
        // Reference: group elements that share all coordinates outside the
        // normalised dims (only `ax` for opset 13; ax.. end for opset 11).
        std::vector<double> soft(x.size()), logSoft(x.size());
        std::map<std::vector<int64_t>, std::vector<size_t>> groups;
        for (size_t i = 0; i < x.size(); ++i) {
          auto idx = unravel(static_cast<int64_t>(i), s);
          for (int64_t d = 0; d < 4; ++d)
            if (d == ax || (opset < 13 && d > ax)) idx[static_cast<size_t>(d)] = -1;
          groups[idx].push_back(i);
        }
        for (const auto& g : groups) {
          double m = -INFINITY, sum = 0;
          for (size_t i : g.second) m = std::max(m, x[i]);
          for (size_t i : g.second) sum += std::exp(x[i] - m);
          for (size_t i : g.second) {
            soft[i] = std::exp(x[i] - m) / sum;
            logSoft[i] = x[i] - m - std::log(sum);
          }
        }
        auto a = run("Softmax", {{"axis", Attribute::ofInt(axis)}}, {&X}, 1, opset);
        auto b = run("LogSoftmax", {{"axis", Attribute::ofInt(axis)}}, {&X}, 1, opset);
        QVERIFY(a.status.isOk() && b.status.isOk());
        QVERIFY(worstRatio(a.outs[0], soft, 1e-5, 1e-7) <= 1.0);
        QVERIFY(worstRatio(b.outs[0], logSoft, 1e-5, 1e-6) <= 1.0);
      }
    }
    // Default axis: -1 from opset 13 (last dim), 1 before (coerced 2-D).
    auto d13 = run("Softmax", {}, {&X}, 1, 13);
    auto last = run("Softmax", {{"axis", Attribute::ofInt(3)}}, {&X}, 1, 13);
    auto d11 = run("Softmax", {}, {&X}, 1, 11);
    auto one = run("Softmax", {{"axis", Attribute::ofInt(1)}}, {&X}, 1, 11);
    QCOMPARE(std::memcmp(d13.outs[0].raw(), last.outs[0].raw(), X.bytes()), 0);
    QCOMPARE(std::memcmp(d11.outs[0].raw(), one.outs[0].raw(), X.bytes()), 0);
    auto bad = run("Softmax", {{"axis", Attribute::ofInt(4)}}, {&X});
    QCOMPARE(bad.status.kind(), ErrorKind::BadInput);
  }

  void clipBoundsAsAttributesAndInputs() {
    Tensor X = Tensor::fromVector<float>({5}, {-3.f, -1.f, 0.f, 1.f, 3.f});
    auto old = run("Clip", {{"min", Attribute::ofFloat(-1.5f)}, {"max", Attribute::ofFloat(2.f)}}, {&X}, 1, 6);
    QVERIFY(old.status.isOk());
    QCOMPARE(old.outs[0].toDoubles(), (std::vector<double>{-1.5, -1, 0, 1, 2}));
    Tensor lo = Tensor::scalar(-0.5f), hi = Tensor::scalar(0.5f);
    auto both = run("Clip", {}, {&X, &lo, &hi}, 1, 13);
    QCOMPARE(both.outs[0].toDoubles(), (std::vector<double>{-0.5, -0.5, 0, 0.5, 0.5}));
    auto onlyMax = run("Clip", {}, {&X, nullptr, &hi}, 1, 13);
    QCOMPARE(onlyMax.outs[0].toDoubles(), (std::vector<double>{-3, -1, 0, 0.5, 0.5}));
    auto swapped = run("Clip", {}, {&X, &hi, &lo}, 1, 13);  // min > max: everything becomes max
    QCOMPARE(swapped.outs[0].toDoubles(), (std::vector<double>(5, -0.5)));
    Tensor Xi = X.cast(DType::Int8), loi = Tensor::fromVector<int8_t>({}, {-2});
    auto ints = run("Clip", {}, {&Xi, &loi}, 1, 13);
    QCOMPARE(ints.outs[0].dtype(), DType::Int8);
    QCOMPARE(ints.outs[0].toInt64s(), (std::vector<int64_t>{-2, -1, 0, 1, 3}));
    Tensor vec(DType::Float, {2});
    QCOMPARE(run("Clip", {}, {&X, &vec}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

  void reduceMeanAxesAndKeepdims() {
    std::mt19937 rng(9);
    Shape s{2, 3, 4, 5};
    Tensor X = randomTensor(rng, s);
    auto x = X.toDoubles();
    struct Case {
      std::vector<int64_t> axes;
      int keepdims;
      Shape out;
    };
    std::vector<Case> cases = {{{1}, 1, {2, 1, 4, 5}}, {{1}, 0, {2, 4, 5}},    {{0, 2}, 1, {1, 3, 1, 5}},
                               {{-1, -3}, 0, {2, 4}},  {{3}, 1, {2, 3, 4, 1}}, {{}, 1, {1, 1, 1, 1}},
                               {{0, 1, 2, 3}, 0, {}},  {{0, 3}, 0, {3, 4}}};
    for (const auto& c : cases) {
      Attrs attrs{{"keepdims", Attribute::ofInt(c.keepdims)}};
      if (!c.axes.empty()) attrs["axes"] = Attribute::ofInts(c.axes);
      auto r = run("ReduceMean", attrs, {&X}, 1, 13, 2);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      QCOMPARE(r.outs[0].shape(), c.out);
      // Reference: average every element into its reduced slot.
      std::vector<bool> red(4, c.axes.empty());
      for (int64_t a : c.axes) red[static_cast<size_t>(a < 0 ? a + 4 : a)] = true;
      Shape keep = s;
      for (size_t d = 0; d < 4; ++d)
        if (red[d]) keep[d] = 1;
      std::vector<double> sum(static_cast<size_t>(numelOf(keep))), cnt(sum.size());
      for (size_t i = 0; i < x.size(); ++i) {
        size_t j = static_cast<size_t>(sourceIndex(unravel(static_cast<int64_t>(i), s), keep));
        sum[j] += x[i];
        cnt[j] += 1;
      }
      for (size_t j = 0; j < sum.size(); ++j) sum[j] /= cnt[j];
      QVERIFY(worstRatio(r.outs[0], sum, 1e-5, 1e-6) <= 1.0);
    }
    // Opset 18: axes as an input; noop_with_empty_axes returns the input.
    Tensor axes = Tensor::fromVector<int64_t>({1}, {2});
    auto a18 = run("ReduceMean", {}, {&X, &axes}, 1, 18);
    auto a13 = run("ReduceMean", {{"axes", Attribute::ofInts({2})}}, {&X}, 1, 13);
    QVERIFY(a18.status.isOk());
    QCOMPARE(a18.outs[0].shape(), a13.outs[0].shape());
    QCOMPARE(testMaxDiff(a18.outs[0], a13.outs[0]), 0.0);
    auto noop = run("ReduceMean", {{"noop_with_empty_axes", Attribute::ofInt(1)}}, {&X}, 1, 18);
    QCOMPARE(noop.outs[0].shape(), s);
    QCOMPARE(testMaxDiff(noop.outs[0], X), 0.0);
    auto bad = run("ReduceMean", {{"axes", Attribute::ofInts({1, -3})}}, {&X}, 1, 13);
    QCOMPARE(bad.status.kind(), ErrorKind::BadInput);
  }

  // The helper behind broadcast gradients and ReduceMean, on both of its
  // paths (innermost dim reduced / kept, more than one 64-column block).
  void sumToShapeMatchesNaive() {
    std::mt19937 rng(13);
    for (const auto& [src, dst] : std::vector<std::pair<Shape, Shape>>{{{2, 3, 4, 5}, {5}},
                                                                       {{2, 3, 4, 5}, {3, 1, 1}},
                                                                       {{2, 3, 4, 5}, {2, 1, 4, 1}},
                                                                       {{2, 3, 4, 5}, {}},
                                                                       {{7, 200}, {200}},
                                                                       {{3, 130, 9}, {1, 130, 1}},
                                                                       {{4, 5}, {4, 5}},
                                                                       {{6, 1, 70}, {6, 1, 1}}}) {
      Tensor S = randomTensor(rng, src);
      Tensor D(DType::Float, dst);
      QVERIFY(ops::sumToShape(S.f(), src, D.f(), dst, 2, 0.5).isOk());
      std::vector<double> want(static_cast<size_t>(D.numel()));
      auto s = S.toDoubles();
      for (size_t i = 0; i < s.size(); ++i)
        want[static_cast<size_t>(sourceIndex(unravel(static_cast<int64_t>(i), src), dst))] += 0.5 * s[i];
      QVERIFY2(worstRatio(D, want, 1e-5, 1e-5) <= 1.0, shapeToString(dst).c_str());
    }
  }

  // Tensor::cast (Pad's fill value, shape inputs) saturates like Cast:
  // a model may hold any double (found by fuzz_loader: a Pad value of 1e300 on int8).
  void tensorCastSaturates() {
    Tensor D = Tensor::fromVector<double>({6}, {1e300, -1e300, NAN, 126.9, -3.5, 1e40});
    QCOMPARE(D.cast(DType::Int8).toInt64s(), (std::vector<int64_t>{127, -128, 0, 126, -3, 127}));
    QCOMPARE(D.cast(DType::UInt8).toInt64s(), (std::vector<int64_t>{255, 0, 0, 126, 0, 255}));
    QCOMPARE(D.toInt64s(), (std::vector<int64_t>{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                                                 0, 126, -3, std::numeric_limits<int64_t>::max()}));
    const Tensor F = D.cast(DType::Float);
    QVERIFY(std::isinf(F.data<float>()[0]) && F.data<float>()[0] > 0);
    QVERIFY(std::isinf(F.data<float>()[1]) && F.data<float>()[1] < 0);
    QCOMPARE(F.data<float>()[3], 126.9f);
  }

  void castBetweenTypes() {
    Tensor X = Tensor::fromVector<float>({6}, {1.7f, -2.5f, 300.f, NAN, -1e20f, 0.f});
    auto toI8 = run("Cast", {{"to", Attribute::ofInt(3)}}, {&X});
    QCOMPARE(toI8.outs[0].dtype(), DType::Int8);
    QCOMPARE(toI8.outs[0].toInt64s(), (std::vector<int64_t>{1, -2, 127, 0, -128, 0}));  // truncates, saturates
    auto toBool = run("Cast", {{"to", Attribute::ofInt(9)}}, {&X});
    QCOMPARE(toBool.outs[0].toInt64s(), (std::vector<int64_t>{1, 1, 1, 1, 1, 0}));
    Tensor big = Tensor::fromVector<int64_t>({2}, {(int64_t(1) << 40) + 5, -3});
    auto toI32 = run("Cast", {{"to", Attribute::ofInt(6)}}, {&big});
    QCOMPARE(toI32.outs[0].toInt64s(), (std::vector<int64_t>{5, -3}));  // wraps like C
    auto toF64 = run("Cast", {{"to", Attribute::ofInt(11)}}, {&big});
    QCOMPARE(toF64.outs[0].toDoubles()[0], static_cast<double>((int64_t(1) << 40) + 5));
    // float16: exact values, rounding to nearest even, overflow, subnormals.
    Tensor H = Tensor::fromVector<float>({7}, {1.f, -2.f, 65504.f, 70000.f, 1.00048828125f, 5.9604645e-8f, 0.1f});
    auto toHalf = run("Cast", {{"to", Attribute::ofInt(10)}}, {&H});
    QCOMPARE(toHalf.outs[0].dtype(), DType::Float16);
    const uint16_t* h = toHalf.outs[0].data<uint16_t>();
    QCOMPARE(h[0], uint16_t(0x3c00));
    QCOMPARE(h[1], uint16_t(0xc000));
    QCOMPARE(h[2], uint16_t(0x7bff));
    QCOMPARE(h[3], uint16_t(0x7c00));
    QCOMPARE(h[4], uint16_t(0x3c00));  // halfway between 1 and 1+2^-10: ties to even
    QCOMPARE(h[5], uint16_t(0x0001));  // smallest subnormal
    QCOMPARE(h[6], uint16_t(0x2e66));
    auto back = run("Cast", {{"to", Attribute::ofInt(1)}}, {&toHalf.outs[0]});
    auto b = back.outs[0].toDoubles();
    QCOMPARE(b[0], 1.0);
    QCOMPARE(b[2], 65504.0);
    QVERIFY(std::isinf(b[3]));
    QCOMPARE(b[5], std::ldexp(1.0, -24));
    QVERIFY(std::fabs(b[6] - 0.1) < 1e-4);
    Node toString = makeNode("Cast", {{"to", Attribute::ofInt(8)}}, {&X}, 1);
    QCOMPARE(OpRegistry::instance().build(toString, 13).status().kind(), ErrorKind::Unsupported);
  }

  void dropoutInferenceAndTraining() {
    std::mt19937 rng(17);
    Tensor X = randomTensor(rng, {64, 100}, 1.f, 2.f);
    // Inference: identity, mask all true.
    auto inf = run("Dropout", {{"ratio", Attribute::ofFloat(0.3f)}}, {&X}, 2, 11);
    QVERIFY(inf.status.isOk());
    QCOMPARE(testMaxDiff(inf.outs[0], X), 0.0);
    QCOMPARE(inf.outs[1].dtype(), DType::Bool);
    QCOMPARE(static_cast<int64_t>(std::count(inf.outs[1].data<uint8_t>(), inf.outs[1].data<uint8_t>() + X.numel(), 1)),
             X.numel());
    // Training: about 30% dropped, survivors scaled by 1/0.7, mask agrees,
    // same mask whatever the thread count, a new mask on the next pass.
    Tensor ratio = Tensor::scalar(0.3f);
    auto k1 = build("Dropout", {}, {&X, &ratio}, 2, 13), k2 = build("Dropout", {}, {&X, &ratio}, 2, 13);
    auto a = forward(*k1, {&X, &ratio}, 2, 1, true);
    auto b = forward(*k2, {&X, &ratio}, 2, 2, true);
    QVERIFY(a.status.isOk() && b.status.isOk());
    QCOMPARE(std::memcmp(a.outs[0].raw(), b.outs[0].raw(), X.bytes()), 0);
    int64_t dropped = 0;
    for (int64_t i = 0; i < X.numel(); ++i) {
      bool keep = a.outs[1].data<uint8_t>()[i] != 0;
      dropped += !keep;
      QCOMPARE(a.outs[0].at(i), keep ? X.at(i) * (1.f / 0.7f) : 0.f);
    }
    QVERIFY2(std::abs(dropped - 1920) < 150, std::to_string(dropped).c_str());  // 6400 * 0.3, ~4 sigma
    auto again = forward(*k1, {&X, &ratio}, 2, 1, true);
    QVERIFY(std::memcmp(again.outs[0].raw(), a.outs[0].raw(), X.bytes()) != 0);
    // Backward uses the mask of the last forward pass.
    Tensor gy = randomTensor(rng, X.shape()), gx;
    std::vector<const Tensor*> outs{&again.outs[0], &again.outs[1]};
    QVERIFY(k1->backward({&X, &ratio}, outs, {&gy, nullptr}, {&gx, nullptr}, RunContext{}).isOk());
    for (int64_t i = 0; i < X.numel(); ++i)
      QCOMPARE(gx.at(i), again.outs[1].data<uint8_t>()[i] ? gy.at(i) * (1.f / 0.7f) : 0.f);
    // training_mode input forces training; ratio 0 keeps everything.
    Tensor on(DType::Bool, {}), zero = Tensor::scalar(0.f);
    on.data<uint8_t>()[0] = 1;
    auto forced = run("Dropout", {}, {&X, &ratio, &on}, 1, 13);
    QVERIFY(testMaxDiff(forced.outs[0], X) > 0.0);
    auto none = run("Dropout", {}, {&X, &zero, &on}, 1, 13);
    QCOMPARE(testMaxDiff(none.outs[0], X), 0.0);
    Tensor bad = Tensor::scalar(1.5f);
    QCOMPARE(run("Dropout", {}, {&X, &bad}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

 private:
  static double testMaxDiff(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape()) return INFINITY;
    auto x = a.toDoubles(), y = b.toDoubles();
    double m = 0;
    for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
    return m;
  }
};

QTEST_APPLESS_MAIN(TestOpsElementwise)
#include "test_ops_elementwise.moc"
