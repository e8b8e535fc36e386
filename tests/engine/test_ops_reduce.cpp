// The Reduce family, ArgMax/ArgMin and Hardmax beyond what the ONNX test
// data covers: random shapes and axes against a naive reference (1 and 4
// threads), integer types, axes as inputs by opset, empty reductions, NaN,
// overflow-free ReduceLogSumExp, bad axes and types as errors, and the
// gradient of ReduceSum.
#include <QtTest>
#include <cmath>
#include <functional>
#include <limits>

#include "test_ops_elementwise_common.h"

using namespace topiary;
using namespace ewtest;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// The reference of one reduction over a list of values.
using RefReduce = std::function<double(const std::vector<double>&)>;

const std::map<std::string, RefReduce>& references() {
  static const std::map<std::string, RefReduce> refs = {
      {"ReduceSum",
       [](const std::vector<double>& v) {
         double s = 0;
         for (double x : v) s += x;
         return s;
       }},
      {"ReduceMean",
       [](const std::vector<double>& v) {
         double s = 0;
         for (double x : v) s += x;
         return s / static_cast<double>(v.size());
       }},
      {"ReduceMax",
       [](const std::vector<double>& v) {
         double m = -kInf;
         for (double x : v) m = std::max(m, x);
         return m;
       }},
      {"ReduceMin",
       [](const std::vector<double>& v) {
         double m = kInf;
         for (double x : v) m = std::min(m, x);
         return m;
       }},
      {"ReduceProd",
       [](const std::vector<double>& v) {
         double p = 1;
         for (double x : v) p *= x;
         return p;
       }},
      {"ReduceSumSquare",
       [](const std::vector<double>& v) {
         double s = 0;
         for (double x : v) s += x * x;
         return s;
       }},
      {"ReduceL1",
       [](const std::vector<double>& v) {
         double s = 0;
         for (double x : v) s += std::fabs(x);
         return s;
       }},
      {"ReduceL2",
       [](const std::vector<double>& v) {
         double s = 0;
         for (double x : v) s += x * x;
         return std::sqrt(s);
       }},
      {"ReduceLogSum",
       [](const std::vector<double>& v) {
         double s = 0;
         for (double x : v) s += x;
         return std::log(s);
       }},
      {"ReduceLogSumExp",
       [](const std::vector<double>& v) {
         double s = 0;
         for (double x : v) s += std::exp(x);
         return std::log(s);
       }},
  };
  return refs;
}

// Naive reduction of x over `axes` (sorted, non-negative); the result has
// x's shape with the reduced dims set to 1.
std::vector<double> refReduce(const Tensor& x, const std::vector<int64_t>& axes, const RefReduce& f, Shape* keep) {
  Shape k = x.shape();
  for (int64_t a : axes) k[static_cast<size_t>(a)] = 1;
  int64_t n = 1;
  for (int64_t d : k) n *= d;
  std::vector<std::vector<double>> groups(static_cast<size_t>(n));
  auto xs = x.toDoubles();
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto idx = unravel(i, x.shape());
    groups[static_cast<size_t>(sourceIndex(idx, k))].push_back(xs[static_cast<size_t>(i)]);
  }
  std::vector<double> y;
  for (const auto& g : groups) y.push_back(f(g));
  if (keep) *keep = k;
  return y;
}

Tensor int64s(const std::vector<int64_t>& v) {
  return Tensor::fromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
}

}  // namespace

class TestOpsReduce : public QObject {
  Q_OBJECT
 private slots:
  void reductionsMatchReference_data() {
    QTest::addColumn<QString>("op");
    for (const auto& [name, f] : references()) QTest::newRow(name.c_str()) << QString::fromStdString(name);
  }
  void reductionsMatchReference() {
    QFETCH(QString, op);
    const std::string name = op.toStdString();
    const RefReduce& f = references().at(name);
    std::mt19937 rng(11);
    // Shapes large enough to take the parallel paths (kept inner dims over
    // 64 columns, long contiguous reduced runs) as well as tiny ones.
    std::vector<Shape> shapes = {{2, 3, 4, 5}, {3, 70, 9}, {5, 1, 130}, {7}, {2, 1, 3, 1}, {300, 40}};
    for (int t = 0; t < 12; ++t) {
      Shape s;
      int rank = std::uniform_int_distribution<int>(1, 5)(rng);
      for (int d = 0; d < rank; ++d) s.push_back(std::uniform_int_distribution<int64_t>(1, 5)(rng));
      shapes.push_back(s);
    }
    const bool positive = name == "ReduceLogSum" || name == "ReduceProd";
    for (const Shape& s : shapes) {
      Tensor X = randomTensor(rng, s, positive ? 0.5f : -2.f, positive ? 1.5f : 2.f);
      const int64_t r = static_cast<int64_t>(s.size());
      for (int trial = 0; trial < 4; ++trial) {
        std::vector<int64_t> axes, given;
        for (int64_t d = 0; d < r; ++d)
          if (rng() % 2) axes.push_back(d);
        for (int64_t a : axes) given.push_back(rng() % 2 ? a - r : a);  // negative axes too
        const bool keepdims = trial % 2 == 0;
        Shape keep;
        auto want = refReduce(X, axes.empty() ? [&] {
          std::vector<int64_t> all;
          for (int64_t d = 0; d < r; ++d) all.push_back(d);
          return all;
        }() : axes, f, &keep);
        Shape outShape;
        for (int64_t d = 0; d < r; ++d) {
          const bool reduced = axes.empty() || std::count(axes.begin(), axes.end(), d);
          if (!reduced)
            outShape.push_back(s[static_cast<size_t>(d)]);
          else if (keepdims)
            outShape.push_back(1);
        }
        for (int threads : {1, 4}) {
          // Axes as an attribute (opset 11) and as an input (opset 18).
          Attrs attrs = {{"keepdims", Attribute::ofInt(keepdims)}};
          if (!given.empty()) attrs["axes"] = Attribute::ofInts(given);
          auto a = run(name, attrs, {&X}, 1, 11, threads);
          QVERIFY2(a.status.isOk(), a.status.message().c_str());
          QCOMPARE(a.outs[0].shape(), outShape);
          QVERIFY2(worstRatio(a.outs[0], want, 1e-5, 1e-5) <= 1.0, shapeToString(s).c_str());
          Tensor axesT = int64s(given);
          auto b = run(name, {{"keepdims", Attribute::ofInt(keepdims)}}, {&X, given.empty() ? nullptr : &axesT}, 1, 18,
                       threads);
          QVERIFY2(b.status.isOk(), b.status.message().c_str());
          QCOMPARE(b.outs[0].shape(), outShape);
          QVERIFY2(worstRatio(b.outs[0], want, 1e-5, 1e-5) <= 1.0, shapeToString(s).c_str());
        }
      }
    }
  }

  void axesBecomeAnInputAtTheRightOpset() {
    Tensor X = Tensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor axes = int64s({1});
    // ReduceSum takes axes as an input from 13; ReduceMax from 18.
    auto s12 = run("ReduceSum", {{"axes", Attribute::ofInts({0})}, {"keepdims", Attribute::ofInt(0)}}, {&X}, 1, 12);
    QVERIFY(s12.status.isOk());
    QCOMPARE(s12.outs[0].toDoubles(), (std::vector<double>{5, 7, 9}));
    auto s13 = run("ReduceSum", {{"keepdims", Attribute::ofInt(0)}}, {&X, &axes}, 1, 13);
    QVERIFY(s13.status.isOk());
    QCOMPARE(s13.outs[0].toDoubles(), (std::vector<double>{6, 15}));
    auto m17 = run("ReduceMax", {{"axes", Attribute::ofInts({0})}, {"keepdims", Attribute::ofInt(0)}}, {&X}, 1, 17);
    QVERIFY(m17.status.isOk());
    QCOMPARE(m17.outs[0].toDoubles(), (std::vector<double>{4, 5, 6}));
    auto m18 = run("ReduceMax", {{"keepdims", Attribute::ofInt(0)}}, {&X, &axes}, 1, 18);
    QVERIFY(m18.status.isOk());
    QCOMPARE(m18.outs[0].toDoubles(), (std::vector<double>{3, 6}));
    // Empty axes: everything, or nothing with noop_with_empty_axes.
    Tensor none = int64s({});
    auto all = run("ReduceSum", {{"keepdims", Attribute::ofInt(0)}}, {&X, &none}, 1, 13);
    QVERIFY(all.status.isOk());
    QCOMPARE(all.outs[0].shape(), Shape{});
    QCOMPARE(all.outs[0].toDoubles(), (std::vector<double>{21}));
    auto noop = run("ReduceMin", {{"noop_with_empty_axes", Attribute::ofInt(1)}}, {&X, &none}, 1, 18);
    QVERIFY(noop.status.isOk());
    QCOMPARE(noop.outs[0].shape(), (Shape{2, 3}));
    QCOMPARE(noop.outs[0].toDoubles(), X.toDoubles());
  }

  void badAxesAreErrors() {
    Tensor X = Tensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
    for (const char* op : {"ReduceSum", "ReduceMax", "ReduceLogSumExp", "ReduceMean"}) {
      auto far = run(op, {{"axes", Attribute::ofInts({2})}}, {&X}, 1, 11);
      QCOMPARE(far.status.kind(), ErrorKind::BadInput);
      QVERIFY(far.status.message().find(op) != std::string::npos);
      auto neg = run(op, {{"axes", Attribute::ofInts({-3})}}, {&X}, 1, 11);
      QCOMPARE(neg.status.kind(), ErrorKind::BadInput);
      auto dup = run(op, {{"axes", Attribute::ofInts({1, -1})}}, {&X}, 1, 11);
      QCOMPARE(dup.status.kind(), ErrorKind::BadInput);
      Tensor huge = int64s({INT64_MIN});
      auto hostile = run(op, {}, {&X, &huge}, 1, 18);
      QCOMPARE(hostile.status.kind(), ErrorKind::BadInput);
      Tensor asFloat = Tensor::fromVector<float>({1}, {0.f});
      auto wrongType = run(op, {}, {&X, &asFloat}, 1, 18);
      QCOMPARE(wrongType.status.kind(), ErrorKind::BadInput);
    }
    // A scalar has no axis 0 to reduce.
    Tensor s = Tensor::scalar(3.f);
    QCOMPARE(run("ReduceSum", {{"axes", Attribute::ofInts({0})}}, {&s}, 1, 11).status.kind(), ErrorKind::BadInput);
    auto whole = run("ReduceSum", {}, {&s}, 1, 11);
    QVERIFY(whole.status.isOk());
    QCOMPARE(whole.outs[0].toDoubles(), (std::vector<double>{3}));
  }

  void emptyReductionsGiveTheIdentity() {
    Tensor X(DType::Float, {2, 0, 3});
    Tensor axes = int64s({1});
    const std::vector<std::pair<const char*, double>> cases = {
        {"ReduceSum", 0},     {"ReduceProd", 1},         {"ReduceMax", -kInf},   {"ReduceMin", kInf},
        {"ReduceL1", 0},      {"ReduceL2", 0},           {"ReduceSumSquare", 0}, {"ReduceLogSum", -kInf},
        {"ReduceMean", kNaN}, {"ReduceLogSumExp", -kInf}};
    for (const auto& [op, value] : cases) {
      auto r = run(op, {{"keepdims", Attribute::ofInt(0)}}, {&X, &axes}, 1, 18);
      QVERIFY2(r.status.isOk(), op);
      QCOMPARE(r.outs[0].shape(), (Shape{2, 3}));
      for (double v : r.outs[0].toDoubles()) {
        if (std::isnan(value))
          QVERIFY2(std::isnan(v), op);
        else
          QVERIFY2(v == value, op);
      }
      // Reducing the other axes leaves an empty output.
      Tensor other = int64s({0, 2});
      auto e = run(op, {}, {&X, &other}, 1, 18);
      QVERIFY2(e.status.isOk(), op);
      QCOMPARE(e.outs[0].shape(), (Shape{1, 0, 1}));
    }
  }

  void integerTypes() {
    Tensor I = Tensor::fromVector<int32_t>({2, 3}, {1, -2, 3, 4, 5, -6});
    auto sum = run("ReduceSum", {{"axes", Attribute::ofInts({1})}}, {&I}, 1, 11);
    QVERIFY(sum.status.isOk());
    QCOMPARE(sum.outs[0].dtype(), DType::Int32);
    QCOMPARE(sum.outs[0].toDoubles(), (std::vector<double>{2, 3}));
    auto l1 = run("ReduceL1", {{"axes", Attribute::ofInts({1})}}, {&I}, 1, 11);
    QVERIFY(l1.status.isOk());
    QCOMPARE(l1.outs[0].toDoubles(), (std::vector<double>{6, 15}));
    Tensor L = Tensor::fromVector<int64_t>({4}, {7, INT64_MAX, -3, INT64_MIN});
    auto mx = run("ReduceMax", {{"keepdims", Attribute::ofInt(0)}}, {&L}, 1, 11);
    QVERIFY(mx.status.isOk());
    QCOMPARE(mx.outs[0].dtype(), DType::Int64);
    QCOMPARE(mx.outs[0].data<int64_t>()[0], INT64_MAX);
    auto mn = run("ReduceMin", {{"keepdims", Attribute::ofInt(0)}}, {&L}, 1, 11);
    QVERIFY(mn.status.isOk());
    QCOMPARE(mn.outs[0].data<int64_t>()[0], INT64_MIN);
    // Integer sums and products wrap rather than overflow.
    Tensor big = Tensor::fromVector<int64_t>({2}, {INT64_MAX, 1});
    auto wrap = run("ReduceSum", {{"keepdims", Attribute::ofInt(0)}}, {&big}, 1, 11);
    QVERIFY(wrap.status.isOk());
    QCOMPARE(wrap.outs[0].data<int64_t>()[0], INT64_MIN);
    Tensor B = Tensor::fromVector<uint8_t>({3}, {200, 7, 100});
    auto bmax = run("ReduceMax", {}, {&B}, 1, 11);
    QVERIFY(bmax.status.isOk());
    QCOMPARE(bmax.outs[0].data<uint8_t>()[0], uint8_t(200));
    auto mean = run("ReduceMean", {}, {&I}, 1, 11);  // 5 / 6 truncates to 0
    QVERIFY(mean.status.isOk());
    QCOMPARE(mean.outs[0].dtype(), DType::Int32);
    QCOMPARE(mean.outs[0].data<int32_t>()[0], 0);
    // Types the kernel does not compute are declined, not crashed on.
    Tensor flags(DType::Bool, {2});
    QCOMPARE(run("ReduceSum", {}, {&flags}, 1, 11).status.kind(), ErrorKind::Unsupported);
    QCOMPARE(run("ArgMax", {}, {&flags}).status.kind(), ErrorKind::Unsupported);
    Tensor half(DType::Float16, {2});
    QCOMPARE(run("ReduceMax", {}, {&half}, 1, 11).status.kind(), ErrorKind::Unsupported);
  }

  void nanPropagatesThroughMaxAndWinsArgMax() {
    Tensor X = Tensor::fromVector<float>({2, 3}, {1.f, NAN, 3.f, NAN, 5.f, NAN});
    auto mx = run("ReduceMax", {{"axes", Attribute::ofInts({1})}, {"keepdims", Attribute::ofInt(0)}}, {&X}, 1, 11);
    QVERIFY(mx.status.isOk());
    QVERIFY(std::isnan(mx.outs[0].at(0)) && std::isnan(mx.outs[0].at(1)));
    auto lse = run("ReduceLogSumExp", {{"axes", Attribute::ofInts({1})}}, {&X}, 1, 11);
    QVERIFY(lse.status.isOk());
    QVERIFY(std::isnan(lse.outs[0].at(0)));
    // numpy: the first NaN is the arg of both max and min.
    for (const char* op : {"ArgMax", "ArgMin"}) {
      auto first = run(op, {{"axis", Attribute::ofInt(1)}, {"keepdims", Attribute::ofInt(0)}}, {&X});
      QVERIFY(first.status.isOk());
      QCOMPARE(first.outs[0].toInt64s(), (std::vector<int64_t>{1, 0}));
      auto last = run(op, {{"axis", Attribute::ofInt(1)}, {"select_last_index", Attribute::ofInt(1)}}, {&X});
      QVERIFY(last.status.isOk());
      QCOMPARE(last.outs[0].shape(), (Shape{2, 1}));
      QCOMPARE(last.outs[0].toInt64s(), (std::vector<int64_t>{1, 2}));
    }
  }

  void logSumExpDoesNotOverflow() {
    Tensor X = Tensor::fromVector<float>({3}, {1000.f, 1000.f, -INFINITY});
    auto r = run("ReduceLogSumExp", {{"keepdims", Attribute::ofInt(0)}}, {&X}, 1, 11);
    QVERIFY(r.status.isOk());
    QCOMPARE(r.outs[0].at(0), static_cast<float>(1000.0 + std::log(2.0)));
    Tensor inf = Tensor::fromVector<float>({2}, {INFINITY, INFINITY});
    auto ri = run("ReduceLogSumExp", {}, {&inf}, 1, 11);
    QVERIFY(ri.status.isOk());
    QCOMPARE(ri.outs[0].at(0), INFINITY);
  }

  void argMaxShapesTiesAndTypes() {
    Tensor X = Tensor::fromVector<int32_t>({2, 2, 3}, {5, 5, 1, 2, 9, 9, 0, -1, 0, 4, 4, -7});
    auto a0 = run("ArgMax", {}, {&X});  // axis 0, keepdims
    QVERIFY(a0.status.isOk());
    QCOMPARE(a0.outs[0].dtype(), DType::Int64);
    QCOMPARE(a0.outs[0].shape(), (Shape{1, 2, 3}));
    QCOMPARE(a0.outs[0].toInt64s(), (std::vector<int64_t>{0, 0, 0, 1, 0, 0}));
    auto first = run("ArgMax", {{"axis", Attribute::ofInt(-1)}, {"keepdims", Attribute::ofInt(0)}}, {&X});
    QVERIFY(first.status.isOk());
    QCOMPARE(first.outs[0].shape(), (Shape{2, 2}));
    QCOMPARE(first.outs[0].toInt64s(), (std::vector<int64_t>{0, 1, 0, 0}));
    auto last = run(
        "ArgMax",
        {{"axis", Attribute::ofInt(-1)}, {"keepdims", Attribute::ofInt(0)}, {"select_last_index", Attribute::ofInt(1)}},
        {&X});
    QVERIFY(last.status.isOk());
    QCOMPARE(last.outs[0].toInt64s(), (std::vector<int64_t>{1, 2, 2, 1}));
    auto mn = run("ArgMin", {{"axis", Attribute::ofInt(2)}, {"select_last_index", Attribute::ofInt(1)}}, {&X});
    QVERIFY(mn.status.isOk());
    QCOMPARE(mn.outs[0].toInt64s(), (std::vector<int64_t>{2, 0, 1, 2}));
    // Bad axes, a scalar and an empty axis are errors.
    QCOMPARE(run("ArgMax", {{"axis", Attribute::ofInt(3)}}, {&X}).status.kind(), ErrorKind::BadInput);
    QCOMPARE(run("ArgMin", {{"axis", Attribute::ofInt(-4)}}, {&X}).status.kind(), ErrorKind::BadInput);
    Tensor s = Tensor::scalar(1.f);
    QCOMPARE(run("ArgMax", {}, {&s}).status.kind(), ErrorKind::BadInput);
    Tensor E(DType::Float, {2, 0});
    QCOMPARE(run("ArgMax", {{"axis", Attribute::ofInt(1)}}, {&E}).status.kind(), ErrorKind::BadInput);
    // ... but reducing a non-empty axis of an empty tensor is an empty answer.
    auto empty = run("ArgMax", {{"axis", Attribute::ofInt(0)}}, {&E});
    QVERIFY(empty.status.isOk());
    QCOMPARE(empty.outs[0].shape(), (Shape{1, 0}));
  }

  void hardmaxMarksTheFirstMaximum() {
    Tensor X = Tensor::fromVector<float>({2, 2, 2}, {3, 3, 1, 0, -1, 2, 2, 2});
    auto last = run("Hardmax", {}, {&X}, 1, 13);  // axis -1
    QVERIFY(last.status.isOk());
    QCOMPARE(last.outs[0].toDoubles(), (std::vector<double>{1, 0, 1, 0, 0, 1, 1, 0}));
    auto axis1 = run("Hardmax", {{"axis", Attribute::ofInt(1)}}, {&X}, 1, 13);
    QVERIFY(axis1.status.isOk());
    QCOMPARE(axis1.outs[0].toDoubles(), (std::vector<double>{1, 1, 0, 0, 0, 1, 1, 0}));
    // Before 13 everything from the axis on is one row.
    auto coerced = run("Hardmax", {{"axis", Attribute::ofInt(1)}}, {&X}, 1, 11);
    QVERIFY(coerced.status.isOk());
    QCOMPARE(coerced.outs[0].toDoubles(), (std::vector<double>{1, 0, 0, 0, 0, 1, 0, 0}));
    QCOMPARE(run("Hardmax", {{"axis", Attribute::ofInt(3)}}, {&X}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

  void reduceSumGradient() {
    std::mt19937 rng(3);
    Tensor X = randomTensor(rng, {2, 3, 4});
    Tensor axes = int64s({0, 2});
    auto k = build("ReduceSum", {{"keepdims", Attribute::ofInt(0)}}, {&X, &axes}, 1, 13);
    QVERIFY(k);
    QVERIFY(k->hasBackward());
    QVERIFY(gradCheck(*k, {X, axes}, {0}, rng) < 1e-2);
    auto mean = build("ReduceMean", {{"axes", Attribute::ofInts({1})}}, {&X}, 1, 11);
    QVERIFY(mean);
    QVERIFY(gradCheck(*mean, {X}, {0}, rng) < 1e-2);
    auto mx = build("ReduceMax", {}, {&X}, 1, 11);
    QVERIFY(mx);
    QVERIFY(!mx->hasBackward());
  }
};

QTEST_APPLESS_MAIN(TestOpsReduce)
#include "test_ops_reduce.moc"
