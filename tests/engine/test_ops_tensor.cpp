// Tensor-manipulation operators against naive references: every output
// element is recomputed from its multi-index and compared byte for byte, on
// random shapes, every axis, and element sizes 1, 2, 4 and 8.
#include <QtTest>

#include <algorithm>
#include <numeric>

#include "engine/test_ops_tensor_common.h"

using namespace topiary;
using namespace tensortest;

namespace {
const DType kTypes[] = {DType::Float, DType::Int64, DType::UInt8, DType::Int16, DType::Bool};
}

class TestOpsTensor : public QObject {
  Q_OBJECT
 private slots:
  void reshapeResolvesZeroAndMinusOne() {
    std::mt19937 rng(1);
    Tensor x = randomTensor(rng, {2, 3, 4}, DType::Int64);
    struct Case { std::vector<int64_t> target; Shape want; int64_t allowZero; };
    const Case cases[] = {{{4, 6}, {4, 6}, 0},     {{-1}, {24}, 0},        {{0, -1}, {2, 12}, 0},
                          {{0, 0, 2, 2}, {2, 3, 2, 2}, 0}, {{2, -1, 2}, {2, 6, 2}, 0}, {{24, 1}, {24, 1}, 1}};
    for (const auto& c : cases) {
      Tensor shape = ints(c.target);
      auto r = runOp("Reshape", {{"allowzero", Attribute::ofInt(c.allowZero)}}, {&x, &shape}, 1, 14);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      QCOMPARE(r.outs[0].shape(), c.want);
      QVERIFY(std::memcmp(r.outs[0].raw(), x.raw(), x.bytes()) == 0);
    }
    // allowzero keeps a literal 0: [0,3] -> [3,0].
    Tensor empty(DType::Float, {0, 3});
    Tensor target = ints({3, 0});
    auto z = runOp("Reshape", {{"allowzero", Attribute::ofInt(1)}}, {&empty, &target}, 1, 14);
    QVERIFY(z.status.isOk());
    QCOMPARE(z.outs[0].shape(), (Shape{3, 0}));
    // Opset 1 reads the target from the attribute.
    auto old = runOp("Reshape", {{"shape", Attribute::ofInts({6, -1})}}, {&x}, 1, 1);
    QVERIFY(old.status.isOk());
    QCOMPARE(old.outs[0].shape(), (Shape{6, 4}));
    for (auto bad : {std::vector<int64_t>{-1, -1}, {5, -1}, {7, 3}, {2, 3, 4, 0}, {-2, 12}}) {
      Tensor shape = ints(bad);
      auto r = runOp("Reshape", {}, {&x, &shape});
      QCOMPARE(r.status.kind(), ErrorKind::BadInput);
    }
  }

  void transposeMatchesReferenceForEveryPermutation() {
    std::mt19937 rng(2);
    for (DType dt : kTypes) {
      for (int rank = 1; rank <= 4; ++rank) {
        Shape s = randomShape(rng, rank);
        Tensor x = randomTensor(rng, s, dt);
        std::vector<int64_t> perm(static_cast<size_t>(rank));
        std::iota(perm.begin(), perm.end(), 0);
        do {
          Shape os;
          for (int64_t p : perm) os.push_back(s[static_cast<size_t>(p)]);
          Tensor want = gatherReference(x, os, [&](int64_t i) {
            auto oi = unravel(i, os);
            std::vector<int64_t> ii(s.size());
            for (size_t d = 0; d < perm.size(); ++d) ii[static_cast<size_t>(perm[d])] = oi[d];
            return ravel(ii, s);
          });
          auto r = runOp("Transpose", {{"perm", Attribute::ofInts(perm)}}, {&x});
          QVERIFY2(r.status.isOk(), r.status.message().c_str());
          QVERIFY2(sameBytes(r.outs[0], want), (shapeToString(s) + " perm " + shapeToString(perm)).c_str());
        } while (std::next_permutation(perm.begin(), perm.end()));
      }
    }
    // Default perm reverses; a large transpose on two threads equals one thread.
    Tensor big = randomTensor(rng, {64, 33, 70});
    auto one = runOp("Transpose", {}, {&big}, 1, 17, 1), two = runOp("Transpose", {}, {&big}, 1, 17, 2);
    QCOMPARE(one.outs[0].shape(), (Shape{70, 33, 64}));
    QVERIFY(sameBytes(one.outs[0], two.outs[0]));
    QCOMPARE(one.outs[0].at(ravel({5, 7, 9}, {70, 33, 64})), big.at(ravel({9, 7, 5}, {64, 33, 70})));
    QCOMPARE(buildOp("Transpose", {{"perm", Attribute::ofInts({0, 0})}}, 1, 1, 13).status().kind(), ErrorKind::BadInput);
  }

  void concatJoinsAlongEveryAxis() {
    std::mt19937 rng(3);
    for (DType dt : kTypes)
      for (int rank = 1; rank <= 4; ++rank)
        for (int axis = -rank; axis < rank; ++axis) {
          const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
          Shape base = randomShape(rng, rank);
          std::vector<Tensor> parts;
          for (int64_t len : {int64_t(2), int64_t(0), int64_t(3)}) {
            Shape s = base;
            s[a] = len;
            parts.push_back(randomTensor(rng, s, dt));
          }
          std::vector<const Tensor*> in;
          for (auto& p : parts) in.push_back(&p);
          Shape os = base;
          os[a] = 5;
          Tensor want(dt, os);
          const size_t es = dtypeSize(dt);
          for (int64_t i = 0; i < want.numel(); ++i) {
            auto idx = unravel(i, os);
            size_t which = idx[a] < 2 ? 0 : 2;
            if (which == 2) idx[a] -= 2;
            std::memcpy(static_cast<char*>(want.raw()) + i * es,
                        static_cast<const char*>(parts[which].raw()) + ravel(idx, parts[which].shape()) * es, es);
          }
          auto r = runOp("Concat", {{"axis", Attribute::ofInt(axis)}}, in);
          QVERIFY2(r.status.isOk(), r.status.message().c_str());
          QVERIFY(sameBytes(r.outs[0], want));
        }
    Tensor a(DType::Float, {2, 3}), b(DType::Float, {3, 3}), c(DType::Int64, {2, 3});
    QCOMPARE(runOp("Concat", {{"axis", Attribute::ofInt(1)}}, {&a, &b}).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("Concat", {{"axis", Attribute::ofInt(0)}}, {&a, &c}).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("Concat", {{"axis", Attribute::ofInt(2)}}, {&a, &a}).status.kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("Concat", {}, 2, 1, 13).status().kind(), ErrorKind::BadInput);
  }

  void splitHonoursEveryWayOfGivingSizes() {
    std::mt19937 rng(4);
    Tensor x = randomTensor(rng, {3, 7, 2}, DType::Int64);
    auto check = [&](const OpRun& r, const std::vector<int64_t>& sizes, int64_t axis) {
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      QCOMPARE(r.outs.size(), sizes.size());
      int64_t at = 0;
      for (size_t k = 0; k < sizes.size(); ++k) {
        Shape s = x.shape();
        s[static_cast<size_t>(axis)] = sizes[k];
        Tensor want = gatherReference(x, s, [&](int64_t i) {
          auto idx = unravel(i, s);
          idx[static_cast<size_t>(axis)] += at;
          return ravel(idx, x.shape());
        });
        QVERIFY2(sameBytes(r.outs[k], want), ("part " + std::to_string(k)).c_str());
        at += sizes[k];
      }
    };
    check(runOp("Split", {{"axis", Attribute::ofInt(1)}, {"split", Attribute::ofInts({2, 0, 5})}}, {&x}, 3, 11), {2, 0, 5}, 1);
    Tensor sizes = ints({4, 3});
    check(runOp("Split", {{"axis", Attribute::ofInt(-2)}}, {&x, &sizes}, 2, 13), {4, 3}, 1);
    check(runOp("Split", {}, {&x}, 3, 13), {1, 1, 1}, 0);
    check(runOp("Split", {{"axis", Attribute::ofInt(1)}, {"num_outputs", Attribute::ofInt(3)}}, {&x}, 3, 18), {3, 3, 1}, 1);
    // Errors: uneven default split, sizes that do not add up, num_outputs mismatch.
    QCOMPARE(runOp("Split", {{"axis", Attribute::ofInt(1)}}, {&x}, 2, 13).status.kind(), ErrorKind::BadInput);
    Tensor wrong = ints({4, 4});
    QCOMPARE(runOp("Split", {{"axis", Attribute::ofInt(1)}}, {&x, &wrong}, 2, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("Split", {{"num_outputs", Attribute::ofInt(3)}}, 1, 2, 18).status().kind(), ErrorKind::BadInput);
  }

  void sliceMatchesReferenceOnRandomWindows() {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int64_t> pos(-8, 8), stepD(-3, 3);
    for (int trial = 0; trial < 300; ++trial) {
      int rank = 1 + trial % 4;
      Shape s = randomShape(rng, rank, 6);
      DType dt = kTypes[trial % 5];
      Tensor x = randomTensor(rng, s, dt);
      std::vector<int64_t> starts, ends, axes, steps;
      for (int d = 0; d < rank; ++d) {
        if (trial % 3 == 0 && d == 0) continue;  // leave an axis untouched
        axes.push_back(trial % 2 ? d - rank : d);
        int64_t st = stepD(rng);
        if (st == 0) st = 1;
        starts.push_back(pos(rng) * (trial % 7 == 0 ? 1000000000000LL : 1));
        ends.push_back(trial % 11 == 0 ? (st > 0 ? INT64_MAX : INT64_MIN) : pos(rng));
        steps.push_back(st);
      }
      // Reference: per axis, the list of source indices python-style.
      std::vector<std::vector<int64_t>> pick(static_cast<size_t>(rank));
      for (int d = 0; d < rank; ++d)
        for (int64_t i = 0; i < s[static_cast<size_t>(d)]; ++i) pick[static_cast<size_t>(d)].push_back(i);
      for (size_t k = 0; k < axes.size(); ++k) {
        size_t d = static_cast<size_t>(axes[k] < 0 ? axes[k] + rank : axes[k]);
        int64_t n = s[d], b = starts[k], e = ends[k], st = steps[k];
        if (b < 0) b += n;
        if (e < 0) e += n;
        pick[d].clear();
        if (st > 0) {
          b = std::max<int64_t>(0, std::min(b, n));
          e = std::max<int64_t>(0, std::min(e, n));
          for (int64_t i = b; i < e; i += st) pick[d].push_back(i);
        } else {
          b = std::max<int64_t>(0, std::min(b, n - 1));
          e = std::max<int64_t>(-1, std::min(e, n - 1));
          for (int64_t i = b; i > e; i += st) pick[d].push_back(i);
        }
      }
      Shape os;
      for (auto& p : pick) os.push_back(static_cast<int64_t>(p.size()));
      Tensor want = gatherReference(x, os, [&](int64_t i) {
        auto oi = unravel(i, os);
        for (size_t d = 0; d < oi.size(); ++d) oi[d] = pick[d][static_cast<size_t>(oi[d])];
        return ravel(oi, s);
      });
      Tensor ts = ints(starts), te = ints(ends), ta = ints(axes), tp = ints(steps);
      auto r = runOp("Slice", {}, {&x, &ts, &te, &ta, &tp}, 1, 13);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      QVERIFY2(sameBytes(r.outs[0], want), ("trial " + std::to_string(trial) + " " + shapeToString(s) + " -> " +
                                            shapeToString(r.outs[0].shape()) + " want " + shapeToString(os)).c_str());
      bool unitSteps = std::all_of(steps.begin(), steps.end(), [](int64_t v) { return v == 1; });
      if (unitSteps) {  // the opset-1 attribute form gives the same result
        auto old = runOp("Slice", {{"starts", Attribute::ofInts(starts)}, {"ends", Attribute::ofInts(ends)},
                                   {"axes", Attribute::ofInts(axes)}}, {&x}, 1, 9);
        QVERIFY2(old.status.isOk(), old.status.message().c_str());
        QVERIFY(sameBytes(old.outs[0], want));
      }
    }
    Tensor x(DType::Float, {4, 4});
    Tensor s0 = ints({0}), e2 = ints({2}), a0 = ints({0}), zero = ints({0}), a00 = ints({0, 0}), s00 = ints({0, 0});
    QCOMPARE(runOp("Slice", {}, {&x, &s0, &e2, &a0, &zero}, 1, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("Slice", {}, {&x, &s00, &s00, &a00}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

  void squeezeAndUnsqueezeMoveUnitAxes() {
    std::mt19937 rng(6);
    Tensor x = randomTensor(rng, {1, 3, 1, 2}, DType::UInt8);
    auto all = runOp("Squeeze", {}, {&x}, 1, 13);
    QVERIFY(all.status.isOk());
    QCOMPARE(all.outs[0].shape(), (Shape{3, 2}));
    QVERIFY(std::memcmp(all.outs[0].raw(), x.raw(), x.bytes()) == 0);
    Tensor axes = ints({-2});
    auto one = runOp("Squeeze", {}, {&x, &axes}, 1, 13);
    QCOMPARE(one.outs[0].shape(), (Shape{1, 3, 2}));
    auto attr = runOp("Squeeze", {{"axes", Attribute::ofInts({0})}}, {&x}, 1, 11);
    QCOMPARE(attr.outs[0].shape(), (Shape{3, 1, 2}));
    Tensor notOne = ints({1});
    QCOMPARE(runOp("Squeeze", {}, {&x, &notOne}, 1, 13).status.kind(), ErrorKind::BadInput);

    Tensor y = randomTensor(rng, {3, 4});
    struct Case { std::vector<int64_t> axes; Shape want; };
    const Case cases[] = {{{0}, {1, 3, 4}}, {{2}, {3, 4, 1}}, {{-1}, {3, 4, 1}}, {{3, 0}, {1, 3, 4, 1}},
                          {{1, 3}, {3, 1, 4, 1}}, {{0, 1, 2}, {1, 1, 1, 3, 4}}};
    for (const auto& c : cases) {
      Tensor ax = ints(c.axes);
      auto r = runOp("Unsqueeze", {}, {&y, &ax}, 1, 13);
      QVERIFY2(r.status.isOk(), r.status.message().c_str());
      QCOMPARE(r.outs[0].shape(), c.want);
      auto old = runOp("Unsqueeze", {{"axes", Attribute::ofInts(c.axes)}}, {&y}, 1, 11);
      QCOMPARE(old.outs[0].shape(), c.want);
      QVERIFY(sameBytes(r.outs[0], old.outs[0]));
    }
    Tensor dup = ints({1, 1}), far = ints({3});
    QCOMPARE(runOp("Unsqueeze", {}, {&y, &dup}, 1, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("Unsqueeze", {}, {&y, &far}, 1, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("Unsqueeze", {}, 1, 1, 11).status().kind(), ErrorKind::BadInput);
  }

  void shapeAndSizeDescribeTheInput() {
    Tensor x(DType::Int16, {2, 3, 5, 7});
    struct Case { std::map<std::string, Attribute> attrs; std::vector<int64_t> want; };
    const Case cases[] = {{{}, {2, 3, 5, 7}},
                          {{{"start", Attribute::ofInt(1)}}, {3, 5, 7}},
                          {{{"end", Attribute::ofInt(-1)}}, {2, 3, 5}},
                          {{{"start", Attribute::ofInt(-10)}, {"end", Attribute::ofInt(10)}}, {2, 3, 5, 7}},
                          {{{"start", Attribute::ofInt(3)}, {"end", Attribute::ofInt(1)}}, {}}};
    for (const auto& c : cases) {
      auto r = runOp("Shape", c.attrs, {&x}, 1, 15);
      QVERIFY(r.status.isOk());
      QCOMPARE(r.outs[0].dtype(), DType::Int64);
      QCOMPARE(r.outs[0].toInt64s(), c.want);
    }
    auto size = runOp("Size", {}, {&x});
    QCOMPARE(size.outs[0].rank(), 0);
    QCOMPARE(size.outs[0].toInt64s(), std::vector<int64_t>{210});
  }

  void gatherPicksAlongAnyAxis() {
    std::mt19937 rng(8);
    for (DType dt : kTypes)
      for (int rank = 1; rank <= 3; ++rank)
        for (int axis = -rank; axis < rank; ++axis) {
          Shape s = randomShape(rng, rank);
          Tensor x = randomTensor(rng, s, dt);
          const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
          const int64_t n = s[a];
          for (const Shape& is : {Shape{}, Shape{4}, Shape{2, 3}}) {
            Tensor idx(DType::Int64, is);
            for (int64_t i = 0; i < idx.numel(); ++i)
              idx.data<int64_t>()[i] = std::uniform_int_distribution<int64_t>(-n, n - 1)(rng);
            Shape os(s.begin(), s.begin() + static_cast<long>(a));
            os.insert(os.end(), is.begin(), is.end());
            os.insert(os.end(), s.begin() + static_cast<long>(a) + 1, s.end());
            Tensor want = gatherReference(x, os, [&](int64_t i) {
              auto oi = unravel(i, os);
              std::vector<int64_t> ii(oi.begin(), oi.begin() + static_cast<long>(a));
              int64_t k = idx.data<int64_t>()[ravel(std::vector<int64_t>(oi.begin() + static_cast<long>(a),
                                                                          oi.begin() + static_cast<long>(a + is.size())), is)];
              ii.push_back(k < 0 ? k + n : k);
              ii.insert(ii.end(), oi.begin() + static_cast<long>(a + is.size()), oi.end());
              return ravel(ii, s);
            });
            Tensor idx32 = idx.cast(DType::Int32);
            for (const Tensor* ind : {&idx, &idx32}) {
              auto r = runOp("Gather", {{"axis", Attribute::ofInt(axis)}}, {&x, ind}, 1, 13, 2);
              QVERIFY2(r.status.isOk(), r.status.message().c_str());
              QVERIFY(sameBytes(r.outs[0], want));
            }
          }
        }
    Tensor x(DType::Float, {3, 2});
    Tensor out = ints({3}), under = ints({-4});
    QCOMPARE(runOp("Gather", {}, {&x, &out}).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("Gather", {}, {&x, &under}).status.kind(), ErrorKind::BadInput);
  }

  void gatherElementsFollowsIndicesShape() {
    Tensor x = Tensor::fromVector<float>({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    Tensor i0 = Tensor::fromVector<int64_t>({2, 3}, {1, 2, 0, 2, 0, -3});
    auto r0 = runOp("GatherElements", {{"axis", Attribute::ofInt(0)}}, {&x, &i0}, 1, 13);
    QVERIFY(r0.status.isOk());
    QCOMPARE(r0.outs[0].toDoubles(), (std::vector<double>{4, 8, 3, 7, 2, 3}));
    Tensor i1 = Tensor::fromVector<int64_t>({3, 2}, {0, 2, -1, 1, 0, 0});
    auto r1 = runOp("GatherElements", {{"axis", Attribute::ofInt(-1)}}, {&x, &i1}, 1, 13);
    QCOMPARE(r1.outs[0].toDoubles(), (std::vector<double>{1, 3, 6, 5, 7, 7}));
    Tensor bad = Tensor::fromVector<int64_t>({1, 1}, {3});
    QCOMPARE(runOp("GatherElements", {}, {&x, &bad}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

  void constantsInEveryForm() {
    Tensor v = Tensor::fromVector<int32_t>({2}, {7, -1});
    auto t = runOp("Constant", {{"value", Attribute::ofTensor(v)}}, {}, 1, 13);
    QVERIFY(sameBytes(t.outs[0], v));
    auto f = runOp("Constant", {{"value_float", Attribute::ofFloat(2.5f)}}, {}, 1, 13);
    QCOMPARE(f.outs[0].rank(), 0);
    QCOMPARE(f.outs[0].at(0), 2.5f);
    auto fs = runOp("Constant", {{"value_floats", Attribute::ofFloats({1.f, 2.f})}}, {}, 1, 13);
    QCOMPARE(fs.outs[0].toDoubles(), (std::vector<double>{1, 2}));
    auto is = runOp("Constant", {{"value_ints", Attribute::ofInts({4, 5, 6})}}, {}, 1, 13);
    QCOMPARE(is.outs[0].dtype(), DType::Int64);
    QCOMPARE(is.outs[0].toInt64s(), (std::vector<int64_t>{4, 5, 6}));
    QCOMPARE(buildOp("Constant", {}, 0, 1, 13).status().kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("Constant", {{"value_int", Attribute::ofInt(1)}, {"value_float", Attribute::ofFloat(1)}}, 0, 1, 13)
                 .status().kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("Constant", {{"value_string", Attribute::ofString("a")}}, 0, 1, 13).status().kind(),
             ErrorKind::Unsupported);

    Tensor shape = ints({2, 0, 3}), shape2 = ints({3, 2}), scalarShape = ints({});
    auto zeros = runOp("ConstantOfShape", {}, {&shape2}, 1, 13);
    QCOMPARE(zeros.outs[0].dtype(), DType::Float);
    QCOMPARE(zeros.outs[0].toDoubles(), std::vector<double>(6, 0.0));
    Tensor seven = Tensor::fromVector<int64_t>({1}, {7});
    auto sevens = runOp("ConstantOfShape", {{"value", Attribute::ofTensor(seven)}}, {&shape2}, 1, 13);
    QCOMPARE(sevens.outs[0].toInt64s(), std::vector<int64_t>(6, 7));
    QCOMPARE(runOp("ConstantOfShape", {}, {&shape}, 1, 13).outs[0].shape(), (Shape{2, 0, 3}));
    QCOMPARE(runOp("ConstantOfShape", {}, {&scalarShape}, 1, 13).outs[0].rank(), 0);
    Tensor negative = ints({2, -1}), huge = ints({int64_t(1) << 40, int64_t(1) << 40});
    QCOMPARE(runOp("ConstantOfShape", {}, {&negative}, 1, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("ConstantOfShape", {}, {&huge}, 1, 13).status.kind(), ErrorKind::BadInput);
  }

  void expandAndTileBroadcastLikeTheReference() {
    std::mt19937 rng(9);
    for (DType dt : kTypes) {
      Tensor x = randomTensor(rng, {3, 1, 2}, dt);
      for (auto target : {std::vector<int64_t>{2, 3, 4, 2}, {1, 1}, {3, 5, 1}, {4, 1, 1, 1}}) {
        Tensor ts = ints(target);
        auto r = runOp("Expand", {}, {&x, &ts}, 1, 13);
        QVERIFY2(r.status.isOk(), r.status.message().c_str());
        Shape os = r.outs[0].shape();
        Tensor want = gatherReference(x, os, [&](int64_t i) {
          auto oi = unravel(i, os);
          std::vector<int64_t> ii(oi.end() - 3, oi.end());
          for (size_t d = 0; d < 3; ++d) ii[d] = x.shape()[d] == 1 ? 0 : ii[d];
          return ravel(ii, x.shape());
        });
        QVERIFY(sameBytes(r.outs[0], want));
      }
      for (auto reps : {std::vector<int64_t>{1, 1, 1}, {2, 3, 1}, {1, 4, 3}, {2, 0, 1}}) {
        Tensor tr = ints(reps);
        auto r = runOp("Tile", {}, {&x, &tr}, 1, 13);
        QVERIFY2(r.status.isOk(), r.status.message().c_str());
        Shape os = {3 * reps[0], reps[1], 2 * reps[2]};
        Tensor want = gatherReference(x, os, [&](int64_t i) {
          auto oi = unravel(i, os);
          for (size_t d = 0; d < 3; ++d) oi[d] %= x.shape()[d];
          return ravel(oi, x.shape());
        });
        QVERIFY(sameBytes(r.outs[0], want));
      }
    }
    Tensor x(DType::Float, {3, 2});
    Tensor clash = ints({4, 2}), shortReps = ints({2});
    QCOMPARE(runOp("Expand", {}, {&x, &clash}, 1, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("Tile", {}, {&x, &shortReps}, 1, 13).status.kind(), ErrorKind::BadInput);
    // An empty input whose other dimensions multiply past int64: the output
    // is empty too, and computing the input's strides must not overflow.
    Tensor empty(DType::Float, {0, int64_t(1) << 62, 118});
    Tensor ones = ints({1, 1, 1});
    auto e = runOp("Tile", {}, {&empty, &ones}, 1, 13);
    QVERIFY2(e.status.isOk(), e.status.message().c_str());
    QCOMPARE(e.outs[0].shape(), (Shape{0, int64_t(1) << 62, 118}));
    QCOMPARE(e.outs[0].numel(), int64_t(0));
  }

  void rangeCountsLikeNumpy() {
    auto range = [](auto start, auto limit, auto delta) {
      using T = decltype(start);
      Tensor a = Tensor::fromVector<T>({}, {start}), b = Tensor::fromVector<T>({}, {limit}),
             c = Tensor::fromVector<T>({}, {delta});
      return runOp("Range", {}, {&a, &b, &c}, 1, 13);
    };
    QCOMPARE(range(1.f, 2.f, 0.25f).outs[0].toDoubles(), (std::vector<double>{1, 1.25, 1.5, 1.75}));
    QCOMPARE(range(int32_t(10), int32_t(4), int32_t(-3)).outs[0].toInt64s(), (std::vector<int64_t>{10, 7}));
    QCOMPARE(range(int64_t(0), int64_t(5), int64_t(2)).outs[0].toInt64s(), (std::vector<int64_t>{0, 2, 4}));
    QCOMPARE(range(int64_t(5), int64_t(0), int64_t(1)).outs[0].numel(), int64_t(0));
    QCOMPARE(range(3.0, 3.5, 0.2).outs[0].dtype(), DType::Double);
    QCOMPARE(range(3.0, 3.5, 0.2).outs[0].numel(), int64_t(3));
    QCOMPARE(range(int64_t(0), int64_t(5), int64_t(0)).status.kind(), ErrorKind::BadInput);
  }
  void depthToSpaceAndBackAgain() {
    std::mt19937 rng(10);
    for (DType dt : {DType::Float, DType::UInt8, DType::Int64})
      for (int64_t b : {1, 2, 3}) {
        const int64_t N = 2, Co = 2, H = 3, W = 2, C = Co * b * b;
        Tensor x = randomTensor(rng, {N, C, H, W}, dt);
        for (bool crd : {false, true}) {
          auto r = runOp("DepthToSpace", {{"blocksize", Attribute::ofInt(b)}, {"mode", Attribute::ofString(crd ? "CRD" : "DCR")}},
                         {&x}, 1, 13);
          QVERIFY2(r.status.isOk(), r.status.message().c_str());
          const Shape os = {N, Co, H * b, W * b};
          Tensor want = gatherReference(x, os, [&](int64_t i) {
            auto o = unravel(i, os);
            int64_t bi = o[2] % b, bj = o[3] % b;
            int64_t c = crd ? o[1] * b * b + bi * b + bj : (bi * b + bj) * Co + o[1];
            return ravel({o[0], c, o[2] / b, o[3] / b}, x.shape());
          });
          QVERIFY(sameBytes(r.outs[0], want));
          if (!crd) {  // SpaceToDepth undoes the DCR arrangement
            auto back = runOp("SpaceToDepth", {{"blocksize", Attribute::ofInt(b)}}, {&r.outs[0]}, 1, 13);
            QVERIFY2(back.status.isOk(), back.status.message().c_str());
            QVERIFY(sameBytes(back.outs[0], x));
          }
        }
      }
    Tensor odd(DType::Float, {1, 3, 2, 2});
    QCOMPARE(runOp("DepthToSpace", {{"blocksize", Attribute::ofInt(2)}}, {&odd}, 1, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(runOp("SpaceToDepth", {{"blocksize", Attribute::ofInt(3)}}, {&odd}, 1, 13).status.kind(), ErrorKind::BadInput);
    QCOMPARE(buildOp("DepthToSpace", {}, 1, 1, 13).status().kind(), ErrorKind::BadInput);
  }
  void gatherNdAddressesSlices() {
    Tensor x = Tensor::fromVector<int32_t>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
    Tensor pairs = Tensor::fromVector<int64_t>({2, 2}, {0, 1, -1, 0});
    auto r = runOp("GatherND", {}, {&x, &pairs}, 1, 13);
    QVERIFY2(r.status.isOk(), r.status.message().c_str());
    QCOMPARE(r.outs[0].shape(), (Shape{2, 2}));
    QCOMPARE(r.outs[0].toInt64s(), (std::vector<int64_t>{2, 3, 4, 5}));
    Tensor triples = Tensor::fromVector<int64_t>({1, 3}, {1, 1, 0});
    QCOMPARE(runOp("GatherND", {}, {&x, &triples}, 1, 13).outs[0].toInt64s(), std::vector<int64_t>{6});
    Tensor perBatch = Tensor::fromVector<int64_t>({2, 1}, {1, 0});
    auto batched = runOp("GatherND", {{"batch_dims", Attribute::ofInt(1)}}, {&x, &perBatch}, 1, 13);
    QCOMPARE(batched.outs[0].shape(), (Shape{2, 2}));
    QCOMPARE(batched.outs[0].toInt64s(), (std::vector<int64_t>{2, 3, 4, 5}));
    Tensor outside = Tensor::fromVector<int64_t>({1, 2}, {2, 0});
    QCOMPARE(runOp("GatherND", {}, {&x, &outside}, 1, 13).status.kind(), ErrorKind::BadInput);
  }
};

QTEST_GUILESS_MAIN(TestOpsTensor)
#include "test_ops_tensor.moc"
