// Indexing and selection operators (TopK, OneHot, Trilu, CumSum, NonZero,
// ScatterElements, ScatterND, Compress, EyeLike, ReverseSequence, Einsum)
// against naive loops, and what hostile values must produce: errors, never a
// crash or an allocation sized by an attribute or input value.
#include <QtTest>
#include <algorithm>
#include <numeric>

#include "common/test_util.h"
#include "engine/test_ops_tensor_common.h"

using namespace topiary;
using namespace tensortest;

namespace {

Tensor scalarI64(int64_t v) { return Tensor::fromVector<int64_t>({}, {v}); }

// Integer-valued tensor with many ties (so tie order shows), as dtype dt.
Tensor smallInts(std::mt19937& rng, const Shape& s, DType dt, int range = 5) {
  Tensor f(DType::Float, s);
  std::uniform_int_distribution<int> u(-range, range);
  for (int64_t i = 0; i < f.numel(); ++i) f.at(i) = static_cast<float>(u(rng));
  return f.cast(dt);
}

}  // namespace

class TestOpsTensorMore : public QObject {
  Q_OBJECT
 private slots:
  void topKMatchesStableSort() {
    std::mt19937 rng(21);
    for (int trial = 0; trial < 40; ++trial) {
      const int rank = 1 + trial % 3;
      Shape s = randomShape(rng, rank, 6);
      const int64_t axis = std::uniform_int_distribution<int64_t>(0, rank - 1)(rng);
      const int64_t dim = s[static_cast<size_t>(axis)];
      const int64_t k = std::uniform_int_distribution<int64_t>(0, dim)(rng);
      const bool largest = trial % 2 == 0;
      const DType dt = trial % 3 == 0 ? DType::Float : (trial % 3 == 1 ? DType::Int64 : DType::Int32);
      Tensor x = smallInts(rng, s, dt);
      Tensor kt = ints({k});
      auto r = runOp("TopK", {{"axis", Attribute::ofInt(axis - rank)}, {"largest", Attribute::ofInt(largest)}},
                     {&x, &kt}, 2, 11);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      Shape os = s;
      os[static_cast<size_t>(axis)] = k;
      QCOMPARE(r.outs[0].shape(), os);
      QCOMPARE(r.outs[1].dtype(), DType::Int64);
      const std::vector<double> xv = x.toDoubles(), yv = r.outs[0].toDoubles();
      const std::vector<int64_t> iv = r.outs[1].toInt64s();
      for (int64_t o = 0; o < numelOf(os); ++o) {
        auto idx = unravel(o, os);
        const int64_t j = idx[static_cast<size_t>(axis)];
        // The reference: indices along the axis sorted stably by value.
        std::vector<int64_t> order(static_cast<size_t>(dim));
        std::iota(order.begin(), order.end(), 0);
        auto at = [&](int64_t p) {
          auto ii = idx;
          ii[static_cast<size_t>(axis)] = p;
          return xv[static_cast<size_t>(ravel(ii, s))];
        };
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t b) { return largest ? at(a) > at(b) : at(a) < at(b); });
        QCOMPARE(iv[static_cast<size_t>(o)], order[static_cast<size_t>(j)]);
        QCOMPARE(yv[static_cast<size_t>(o)], at(order[static_cast<size_t>(j)]));
      }
    }
    // Opset 1 reads k from its attribute; NaN ranks first among the largest.
    Tensor x = Tensor::fromVector<float>({4}, {1.f, NAN, 3.f, 2.f});
    auto r = runOp("TopK", {{"k", Attribute::ofInt(2)}}, {&x}, 2, 1);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[1].toInt64s(), (std::vector<int64_t>{1, 2}));
    QVERIFY(std::isnan(r.outs[0].at(0)));
    QCOMPARE(r.outs[0].at(1), 3.f);
  }

  void topKRefusesBadK() {
    std::mt19937 rng(22);
    Tensor x = randomTensor(rng, {3, 4});
    for (int64_t k : {int64_t(5), int64_t(-1), int64_t(1) << 40, std::numeric_limits<int64_t>::max()}) {
      Tensor kt = ints({k});
      QCOMPARE(runOp("TopK", {}, {&x, &kt}, 2, 11).status.kind(), ErrorKind::BadInput);
    }
    Tensor two = ints({2, 2});
    QCOMPARE(runOp("TopK", {}, {&x, &two}, 2, 11).status.kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("TopK", {}, 1, 2, 1).status().kind(), ErrorKind::BadInput);  // opset 1 needs k
    Tensor b = x.cast(DType::Bool), k1 = ints({1});
    QCOMPARE(runOp("TopK", {}, {&b, &k1}, 2, 11).status.kind(), ErrorKind::Unsupported);
    // An empty tensor whose trailing dimensions alone overflow int64.
    Tensor empty(DType::Float, {0, int64_t(1) << 40, int64_t(1) << 40});
    Tensor k3 = ints({3});
    auto r = runOp("TopK", {{"axis", Attribute::ofInt(1)}}, {&empty, &k3}, 2, 11);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[1].shape(), (Shape{0, 3, int64_t(1) << 40}));
  }

  void oneHotPlacesValuesAndRefusesHugeDepth() {
    Tensor idx = Tensor::fromVector<int64_t>({2, 3}, {0, 2, -1, 7, -4, 1});
    Tensor depth = Tensor::fromVector<float>({}, {4.f});
    Tensor values = Tensor::fromVector<int32_t>({2}, {5, 9});
    for (int64_t axis : {-1, 0, 1, 2, -3}) {
      auto r = runOp("OneHot", {{"axis", Attribute::ofInt(axis)}}, {&idx, &depth, &values}, 1, 11);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      const int64_t a = axis < 0 ? axis + 3 : axis;
      Shape s = {2, 3};
      s.insert(s.begin() + a, 4);
      QCOMPARE(r.outs[0].shape(), s);
      QCOMPARE(r.outs[0].dtype(), DType::Int32);
      const auto y = r.outs[0].toInt64s();
      for (int64_t i = 0; i < r.outs[0].numel(); ++i) {
        auto p = unravel(i, s);
        const int64_t hot = p[static_cast<size_t>(a)];
        p.erase(p.begin() + a);
        int64_t v = idx.toInt64s()[static_cast<size_t>(ravel(p, {2, 3}))];
        if (v < 0) v += 4;  // -1 -> 3, -4 -> 0; 7 is out of range: all off
        QCOMPARE(y[static_cast<size_t>(i)], int64_t(v == hot ? 9 : 5));
      }
    }
    for (float d : {0.f, -3.f, NAN, 1e12f, 1e30f}) {
      Tensor dt = Tensor::fromVector<float>({}, {d});
      QCOMPARE(runOp("OneHot", {}, {&idx, &dt, &values}, 1, 11).status.kind(), ErrorKind::BadInput);
    }
    // 2^31 classes of int32 for 6 indices: 48 GiB, refused before allocating.
    Tensor big = Tensor::fromVector<int64_t>({}, {int64_t(1) << 31});
    QCOMPARE(runOp("OneHot", {}, {&idx, &big, &values}, 1, 11).status.kind(), ErrorKind::BadInput);
    // Below 4 GiB the executor's per-tensor byte limit refuses it (24 MiB here).
    {
      TensorByteLimit limit(1 << 20);
      Tensor mid = Tensor::fromVector<int64_t>({}, {int64_t(1) << 20});
      bool refused = false;
      try {
        (void)runOp("OneHot", {}, {&idx, &mid, &values}, 1, 11);
      } catch (const TensorTooLarge&) {
        refused = true;
      }
      QVERIFY(refused);
    }
    Tensor three = Tensor::fromVector<int32_t>({3}, {0, 1, 2});
    QCOMPARE(runOp("OneHot", {}, {&idx, &depth, &three}, 1, 11).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("OneHot", {{"axis", Attribute::ofInt(3)}}, {&idx, &depth, &values}, 1, 11).status.kind(),
             ErrorKind::BadInput);
  }

  void triluMatchesLoopOnEveryType() {
    std::mt19937 rng(23);
    const int64_t huge = int64_t(1) << 62;
    for (DType dt : {DType::Float, DType::Int64, DType::Int32, DType::UInt8, DType::Bool})
      for (int64_t k : {int64_t(0), int64_t(1), int64_t(-2), int64_t(4), int64_t(-7), huge, -huge}) {
        for (int upper = 0; upper <= 1; ++upper) {
          Shape s = randomShape(rng, 2 + static_cast<int>(k & 1), 6);
          Tensor x = randomTensor(rng, s, dt);
          Tensor kt = scalarI64(k);
          auto r = runOp("Trilu", {{"upper", Attribute::ofInt(upper)}}, {&x, &kt}, 1, 14);
          QVERIFY2(r.status.isOk(), r.status.message().c_str());
          const Tensor zero(dt, s);
          const size_t es = dtypeSize(dt);
          bool ok = r.outs[0].shape() == s;
          for (int64_t i = 0; ok && i < x.numel(); ++i) {
            auto p = unravel(i, s);
            const int64_t row = p[p.size() - 2], col = p.back();
            const bool keep = upper ? col - row >= k : col - row <= k;
            ok = std::memcmp(static_cast<const char*>(r.outs[0].raw()) + i * es,
                             static_cast<const char*>((keep ? x : zero).raw()) + i * es, es) == 0;
          }
          QVERIFY2(ok, (std::string(dtypeName(dt)) + " k " + std::to_string(k)).c_str());
        }
      }
    Tensor v = randomTensor(rng, {4});
    QCOMPARE(runOp("Trilu", {}, {&v}, 1, 14).status.kind(), ErrorKind::BadInput);
  }

  void cumSumMatchesLoop() {
    std::mt19937 rng(24);
    for (DType dt : {DType::Float, DType::Double, DType::Int32, DType::Int64, DType::UInt8})
      for (int mode = 0; mode < 4; ++mode) {
        const bool exclusive = mode & 1, reverse = mode & 2;
        Shape s = randomShape(rng, 3, 5);
        const int64_t axis = mode % 3;
        Tensor x = dt == DType::UInt8 ? randomTensor(rng, s, dt) : smallInts(rng, s, dt, 100);
        Tensor at = Tensor::fromVector<int32_t>({}, {static_cast<int32_t>(axis - 3 * (mode & 1))});
        auto r = runOp("CumSum", {{"exclusive", Attribute::ofInt(exclusive)}, {"reverse", Attribute::ofInt(reverse)}},
                       {&x, &at}, 1, 14);
        QVERIFY2(r.status.isOk(), r.status.message().c_str());
        QCOMPARE(r.outs[0].dtype(), dt);
        const auto xv = x.toDoubles(), yv = r.outs[0].toDoubles();
        for (int64_t i = 0; i < x.numel(); ++i) {
          auto p = unravel(i, s);
          const int64_t j = p[static_cast<size_t>(axis)], n = s[static_cast<size_t>(axis)];
          double want = 0;
          for (int64_t t = 0; t < n; ++t) {
            const bool in = reverse ? (exclusive ? t > j : t >= j) : (exclusive ? t < j : t <= j);
            p[static_cast<size_t>(axis)] = t;
            if (in) want += xv[static_cast<size_t>(ravel(p, s))];
          }
          if (dt == DType::UInt8) want = std::fmod(want, 256.0);  // unsigned sums wrap
          QVERIFY2(std::fabs(yv[static_cast<size_t>(i)] - want) < 1e-3 * (1 + std::fabs(want)), dtypeName(dt));
        }
      }
    std::mt19937 r2(1);
    Tensor b = randomTensor(r2, {3}, DType::Bool), zero = scalarI64(0), two = scalarI64(1);
    QCOMPARE(runOp("CumSum", {}, {&b, &zero}, 1, 14).status.kind(), ErrorKind::Unsupported);
    Tensor f = randomTensor(r2, {3});
    QCOMPARE(runOp("CumSum", {}, {&f, &two}, 1, 14).status.kind(), ErrorKind::BadInput);
  }

  void nonZeroListsCoordinates() {
    std::mt19937 rng(25);
    for (DType dt : {DType::Float, DType::Int64, DType::UInt8, DType::Bool}) {
      Shape s = randomShape(rng, 3, 5);
      Tensor x = smallInts(rng, s, dt, 1);
      auto r = runOp("NonZero", {}, {&x}, 1, 13);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      std::vector<int64_t> hits;
      const auto xv = x.toDoubles();
      for (int64_t i = 0; i < x.numel(); ++i)
        if (xv[static_cast<size_t>(i)] != 0) hits.push_back(i);
      const int64_t n = static_cast<int64_t>(hits.size());
      QCOMPARE(r.outs[0].shape(), (Shape{3, n}));
      const auto y = r.outs[0].toInt64s();
      for (int64_t j = 0; j < n; ++j) {
        auto p = unravel(hits[static_cast<size_t>(j)], s);
        for (int64_t d = 0; d < 3; ++d) QCOMPARE(y[static_cast<size_t>(d * n + j)], p[static_cast<size_t>(d)]);
      }
    }
    Tensor negZero = Tensor::fromVector<float>({3}, {-0.f, 2.f, 0.f});
    auto r = runOp("NonZero", {}, {&negZero}, 1, 13);
    QCOMPARE(r.outs[0].toInt64s(), (std::vector<int64_t>{1}));
    Tensor scalar = Tensor::scalar(5.f);
    r = runOp("NonZero", {}, {&scalar}, 1, 13);
    QCOMPARE(r.outs[0].shape(), (Shape{1, 1}));
  }

  void scatterRefusesOutOfRangeAndWrapsNegatives() {
    Tensor data = Tensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor upd = Tensor::fromVector<float>({2, 1}, {10, 20});
    for (int64_t bad : {int64_t(3), int64_t(-4), int64_t(1) << 40}) {
      Tensor idx = Tensor::fromVector<int64_t>({2, 1}, {0, bad});
      QCOMPARE(runOp("ScatterElements", {{"axis", Attribute::ofInt(1)}}, {&data, &idx, &upd}, 1, 16).status.kind(),
               ErrorKind::BadInput);
    }
    Tensor idx = Tensor::fromVector<int64_t>({2, 1}, {-1, 0});
    auto r = runOp("ScatterElements", {{"axis", Attribute::ofInt(1)}}, {&data, &idx, &upd}, 1, 13);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{1, 2, 10, 20, 5, 6}));
    // Duplicates combine under a reduction: add at 16, max only from 18.
    Tensor row = Tensor::fromVector<float>({1, 3}, {1, 2, 3});
    Tensor dupT = Tensor::fromVector<int64_t>({1, 2}, {1, 1}), upd2 = Tensor::fromVector<float>({1, 2}, {10, 20});
    r = runOp("ScatterElements", {{"axis", Attribute::ofInt(1)}, {"reduction", Attribute::ofString("add")}},
              {&row, &dupT, &upd2}, 1, 16);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{1, 32, 3}));
    r = runOp("ScatterElements", {{"axis", Attribute::ofInt(1)}, {"reduction", Attribute::ofString("max")}},
              {&row, &dupT, &upd2}, 1, 18);
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{1, 20, 3}));
    QCOMPARE(buildOp("ScatterElements", {{"reduction", Attribute::ofString("max")}}, 3, 1, 16).status().kind(),
             ErrorKind::BadInput);
    QCOMPARE(buildOp("ScatterElements", {{"reduction", Attribute::ofString("add")}}, 3, 1, 13).status().kind(),
             ErrorKind::BadInput);

    // ScatterND: rows by index tuple; -1 wraps, 2 is out of range.
    Tensor rows = Tensor::fromVector<int64_t>({1, 1}, {-1});
    Tensor rowUpd = Tensor::fromVector<float>({1, 3}, {7, 8, 9});
    r = runOp("ScatterND", {}, {&data, &rows, &rowUpd}, 1, 13);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{1, 2, 3, 7, 8, 9}));
    Tensor badRows = Tensor::fromVector<int64_t>({1, 1}, {2});
    QCOMPARE(runOp("ScatterND", {}, {&data, &badRows, &rowUpd}, 1, 13).status.kind(), ErrorKind::BadInput);
    Tensor cell = Tensor::fromVector<int64_t>({2, 2}, {0, 1, 0, 1}), cellUpd = Tensor::fromVector<float>({2}, {3, 4});
    r = runOp("ScatterND", {{"reduction", Attribute::ofString("mul")}}, {&data, &cell, &cellUpd}, 1, 16);
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{1, 24, 3, 4, 5, 6}));
    Tensor wrongUpd = Tensor::fromVector<float>({2}, {7, 8});
    QCOMPARE(runOp("ScatterND", {}, {&data, &rows, &wrongUpd}, 1, 13).status.kind(), ErrorKind::BadInput);
    Tensor tooLong = Tensor::fromVector<int64_t>({1, 3}, {0, 0, 0});
    QCOMPARE(runOp("ScatterND", {}, {&data, &tooLong, &cellUpd}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

  void compressEyeLikeReverseSequence() {
    Tensor x = Tensor::fromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6});
    Tensor cond = Tensor::fromVector<uint8_t>({2}, {0, 1}).cast(DType::Bool);
    auto r = runOp("Compress", {{"axis", Attribute::ofInt(0)}}, {&x, &cond}, 1, 11);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].shape(), (Shape{1, 2}));
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{3, 4}));
    r = runOp("Compress", {}, {&x, &cond}, 1, 11);  // flattened
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{2}));
    Tensor longCond = Tensor::fromVector<uint8_t>({3}, {0, 0, 1}).cast(DType::Bool);
    QCOMPARE(runOp("Compress", {{"axis", Attribute::ofInt(1)}}, {&x, &longCond}, 1, 11).status.kind(),
             ErrorKind::BadInput);

    Tensor shape(DType::Float, {3, 4});
    r = runOp("EyeLike", {{"k", Attribute::ofInt(1)}, {"dtype", Attribute::ofInt(7)}}, {&shape}, 1, 9);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].dtype(), DType::Int64);
    QCOMPARE(r.outs[0].toInt64s(), (std::vector<int64_t>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
    r = runOp("EyeLike", {{"k", Attribute::ofInt(-2)}}, {&shape}, 1, 9);
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}));
    r = runOp("EyeLike", {{"k", Attribute::ofInt(std::numeric_limits<int64_t>::min())}}, {&shape}, 1, 9);
    QVERIFY(r.status.isOk());
    QCOMPARE(r.outs[0].toDoubles(), std::vector<double>(12, 0.0));
    QCOMPARE(buildOp("EyeLike", {{"dtype", Attribute::ofInt(8)}}, 1, 1, 9).status().kind(), ErrorKind::Unsupported);

    // Time along axis 0, batch along axis 1: column b reverses its first lens[b] rows.
    Tensor seq = Tensor::fromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6});
    Tensor lens = Tensor::fromVector<int64_t>({2}, {3, 2});
    r = runOp("ReverseSequence", {}, {&seq, &lens}, 1, 10);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].toDoubles(), (std::vector<double>{5, 4, 3, 2, 1, 6}));
    Tensor badLens = Tensor::fromVector<int64_t>({2}, {4, 0});
    QCOMPARE(runOp("ReverseSequence", {}, {&seq, &badLens}, 1, 10).status.kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("ReverseSequence", {{"time_axis", Attribute::ofInt(1)}}, 2, 1, 10).status().kind(),
             ErrorKind::BadInput);
  }

  void einsumMatchesLoops() {
    std::mt19937 rng(26);
    Tensor a = randomTensor(rng, {2, 3, 4}), b = randomTensor(rng, {2, 4, 5}), m = randomTensor(rng, {4, 4});
    auto check = [&](const std::string& eq, std::vector<const Tensor*> in, const Shape& want, auto ref) {
      auto r = runOp("Einsum", {{"equation", Attribute::ofString(eq)}}, in, 1, 12);
      QVERIFY2(r.status.isOk(), (eq + ": " + r.status.message()).c_str());
      QCOMPARE(r.outs[0].shape(), want);
      for (int64_t i = 0; i < r.outs[0].numel(); ++i)
        QVERIFY2(std::fabs(r.outs[0].at(i) - ref(unravel(i, want))) < 1e-4, eq.c_str());
    };
    auto A = [&](int64_t i, int64_t j, int64_t k) { return double(a.at((i * 3 + j) * 4 + k)); };
    auto B = [&](int64_t i, int64_t j, int64_t k) { return double(b.at((i * 4 + j) * 5 + k)); };
    check("bij,bjk->bik", {&a, &b}, {2, 3, 5}, [&](const std::vector<int64_t>& p) {
      double s = 0;
      for (int64_t j = 0; j < 4; ++j) s += A(p[0], p[1], j) * B(p[0], j, p[2]);
      return s;
    });
    check("bij -> jbi", {&a}, {4, 2, 3}, [&](const std::vector<int64_t>& p) { return A(p[1], p[2], p[0]); });
    check("bij", {&a}, {2, 3, 4}, [&](const std::vector<int64_t>& p) { return A(p[0], p[1], p[2]); });
    check("...j,...j->...", {&a, &a}, {2, 3}, [&](const std::vector<int64_t>& p) {
      double s = 0;
      for (int64_t j = 0; j < 4; ++j) s += A(p[0], p[1], j) * A(p[0], p[1], j);
      return s;
    });
    check("ii->i", {&m}, {4}, [&](const std::vector<int64_t>& p) { return double(m.at(p[0] * 5)); });
    check("ii", {&m}, {}, [&](const std::vector<int64_t>&) { return double(m.at(0)) + m.at(5) + m.at(10) + m.at(15); });
    check("bij->", {&a}, {}, [&](const std::vector<int64_t>&) {
      double s = 0;
      for (int64_t i = 0; i < a.numel(); ++i) s += a.at(i);
      return s;
    });
    // Broadcast ellipsis: [4,4] against a batch of [2,4,5].
    check("...ij,...jk->...ik", {&m, &b}, {2, 4, 5}, [&](const std::vector<int64_t>& p) {
      double s = 0;
      for (int64_t j = 0; j < 4; ++j) s += double(m.at(p[1] * 4 + j)) * B(p[0], j, p[2]);
      return s;
    });
    // The general loop (integers; a broadcast batch of 1) agrees with the GEMM form.
    Tensor ai = a.cast(DType::Int64), bi = b.cast(DType::Int64);
    auto gemm = runOp("Einsum", {{"equation", Attribute::ofString("bij,bjk->bik")}}, {&ai, &bi}, 1, 12);
    QVERIFY2(gemm.status.isOk(), gemm.status.message().c_str());
    QCOMPARE(gemm.outs[0].dtype(), DType::Int64);
    const auto av = ai.toInt64s(), bv = bi.toInt64s(), gv = gemm.outs[0].toInt64s();
    for (int64_t i = 0; i < 2 * 3 * 5; ++i) {
      auto p = unravel(i, {2, 3, 5});
      int64_t want = 0;
      for (int64_t j = 0; j < 4; ++j)
        want += av[static_cast<size_t>((p[0] * 3 + p[1]) * 4 + j)] * bv[static_cast<size_t>((p[0] * 4 + j) * 5 + p[2])];
      QCOMPARE(gv[static_cast<size_t>(i)], want);
    }
    Tensor m1 = m;
    m1.reshapeInPlace({1, 4, 4});
    auto viaLoop = runOp("Einsum", {{"equation", Attribute::ofString("...ij,...jk->...ik")}}, {&m1, &b}, 1, 12);
    auto viaGemm = runOp("Einsum", {{"equation", Attribute::ofString("ij,bjk->bik")}}, {&m, &b}, 1, 12);
    QVERIFY(viaLoop.status.isOk() && viaGemm.status.isOk());
    QCOMPARE(viaLoop.outs[0].shape(), (Shape{2, 4, 5}));
    QVERIFY(testutil::allClose(viaLoop.outs[0], viaGemm.outs[0], 1e-5, 1e-5));
    auto diag = runOp("Einsum", {{"equation", Attribute::ofString("ii,ij->j")}}, {&m, &m}, 1, 12);
    QVERIFY2(diag.status.isOk(), diag.status.message().c_str());
    for (int64_t j = 0; j < 4; ++j) {
      double want = 0;
      for (int64_t i = 0; i < 4; ++i) want += double(m.at(i * 5)) * m.at(i * 4 + j);
      QVERIFY(std::fabs(diag.outs[0].at(j) - want) < 1e-4);
    }
    // 2^33 multiply-adds for three small vectors: refused, not run.
    Tensor v(DType::Float, {2048});
    QCOMPARE(runOp("Einsum", {{"equation", Attribute::ofString("i,j,k->")}}, {&v, &v, &v}, 1, 12).status.kind(),
             ErrorKind::Unsupported);
    for (const char* bad : {"ij,jk", "i.j->i", "ij->k", "ij->ii", "ij->...", "i$->i"}) {
      auto k = buildOp("Einsum", {{"equation", Attribute::ofString(bad)}}, 1, 1, 12);
      if (!k) {
        QCOMPARE(k.status().kind(), ErrorKind::BadInput);
        continue;
      }
      auto r = runOp("Einsum", {{"equation", Attribute::ofString(bad)}}, {&m}, 1, 12);
      QVERIFY2(r.status.kind() == ErrorKind::BadInput, bad);
    }
    Tensor bm = randomTensor(rng, {4, 5});
    QCOMPARE(runOp("Einsum", {{"equation", Attribute::ofString("ij,jk->ik")}}, {&m, &m, &bm}, 1, 12).status.kind(),
             ErrorKind::BadInput);
    QCOMPARE(runOp("Einsum", {{"equation", Attribute::ofString("ij,ij->ij")}}, {&m, &bm}, 1, 12).status.kind(),
             ErrorKind::BadInput);
  }
};

QTEST_GUILESS_MAIN(TestOpsTensorMore)
#include "test_ops_tensor_more.moc"
