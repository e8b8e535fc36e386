// Pad and Resize/Upsample against naive references; Pad's backward by finite
// differences.
#include <QtTest>
#include <limits>

#include "engine/test_ops_nn_helpers.h"

using namespace topiary;
using namespace nntest;

namespace {

// Pad reference: reflection by repeated folding, edge by clamping.
Tensor refPad(const Tensor& X, const std::vector<int64_t>& pads, const std::string& mode, float value) {
  size_t r = X.shape().size();
  Shape ys(r);
  for (size_t d = 0; d < r; ++d) ys[d] = X.shape()[d] + pads[d] + pads[d + r];
  Tensor Y(DType::Float, ys);
  forEachIndex(ys, [&](const std::vector<int64_t>& yi) {
    std::vector<int64_t> xi(r);
    bool fill = false;
    for (size_t d = 0; d < r; ++d) {
      int64_t n = X.shape()[d], i = yi[d] - pads[d];
      if (mode == "constant") fill |= i < 0 || i >= n;
      else if (mode == "edge") i = std::min<int64_t>(std::max<int64_t>(i, 0), n - 1);
      else
        while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
      xi[d] = i;
    }
    Y.at(flatIndex(ys, yi)) = fill ? value : X.at(flatIndex(X.shape(), xi));
  });
  return Y;
}

// 1-D tensors; an empty list gives an empty tensor without copying from a null buffer.
Tensor int64s(const std::vector<int64_t>& v) {
  return v.empty() ? Tensor(DType::Int64, {0}) : Tensor::fromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
}
Tensor floats(const std::vector<float>& v) {
  return v.empty() ? Tensor(DType::Float, {0}) : Tensor::fromVector<float>({static_cast<int64_t>(v.size())}, v);
}

// Source coordinate of output index o along one axis.
double sourceCoord(const std::string& mode, int64_t o, double scale, int64_t in, int64_t out) {
  if (mode == "half_pixel") return (o + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel") return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
  if (mode == "align_corners") return out > 1 ? o * double(in - 1) / double(out - 1) : 0;
  return o / scale;  // asymmetric
}

// 2-D bilinear / nearest resize of the last two axes of an [N, C, H, W] tensor.
Tensor refResize2d(const Tensor& X, int64_t oh, int64_t ow, double sh, double sw, const std::string& coord,
                   const std::string& mode, const std::string& nearest) {
  int64_t N = X.dim(0), C = X.dim(1), H = X.dim(2), W = X.dim(3);
  Tensor Y(DType::Float, {N, C, oh, ow});
  auto at = [&](int64_t p, int64_t h, int64_t w) {
    h = std::min(std::max<int64_t>(h, 0), H - 1);
    w = std::min(std::max<int64_t>(w, 0), W - 1);
    return static_cast<double>(X.at((p * H + h) * W + w));
  };
  auto roundNearest = [&](double x) -> int64_t {
    double f = std::floor(x), frac = x - f;
    if (nearest == "floor") return static_cast<int64_t>(f);
    if (nearest == "ceil") return static_cast<int64_t>(std::ceil(x));
    if (frac == 0.5) return static_cast<int64_t>(nearest == "round_prefer_ceil" ? f + 1 : f);
    return static_cast<int64_t>(frac < 0.5 ? f : f + 1);
  };
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t h = 0; h < oh; ++h)
      for (int64_t w = 0; w < ow; ++w) {
        double y = sourceCoord(coord, h, sh, H, oh), x = sourceCoord(coord, w, sw, W, ow), v;
        if (mode == "nearest") {
          v = at(p, roundNearest(y), roundNearest(x));
        } else {
          int64_t y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
          double ty = y - y0, tx = x - x0;
          v = (1 - ty) * ((1 - tx) * at(p, y0, x0) + tx * at(p, y0, x0 + 1)) +
              ty * ((1 - tx) * at(p, y0 + 1, x0) + tx * at(p, y0 + 1, x0 + 1));
        }
        Y.at((p * oh + h) * ow + w) = static_cast<float>(v);
      }
  return Y;
}

}  // namespace

class TestOpsNnResample : public QObject {
  Q_OBJECT
 private slots:
  void padMatchesReferenceInEveryMode() {
    struct Case {
      Shape x;
      std::vector<int64_t> pads;
      std::string mode;
    };
    std::vector<Case> cases{
        {{3, 4}, {1, 2, 2, 1}, "reflect"},  {{2, 3, 4}, {0, 1, 2, 1, 2, 0}, "edge"},
        {{2, 3, 4}, {1, -1, 0, 0, 2, -2}, "constant"},  {{1, 2, 3, 3}, {0, 0, 2, 2, 0, 0, 2, 2}, "reflect"},
        {{5}, {3, 4}, "constant"},
    };
    std::mt19937 rng(31);
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      Tensor X = randomTensor(c.x, rng);
      Tensor ref = refPad(X, c.pads, c.mode, 1.5f);
      // opset 11+: pads and value are inputs.
      auto k = build("Pad", {{"mode", Attribute::ofString(c.mode)}}, 13);
      QVERIFY(k.isOk());
      Tensor pads = int64s(c.pads), value = Tensor::scalar(1.5f);
      std::string why;
      auto y = run(*k.value(), {&X, &pads, &value}, 1, RunContext{}, &why);
      QVERIFY2(!y.empty(), why.c_str());
      QVERIFY2(testutil::allClose(y[0], ref, 0, 0, &why), ("case " + std::to_string(i) + ": " + why).c_str());
      // opset 2-10: the same padding from attributes.
      auto k2 = build("Pad", {{"mode", Attribute::ofString(c.mode)}, {"pads", Attribute::ofInts(c.pads)},
                              {"value", Attribute::ofFloat(1.5f)}}, 10);
      QVERIFY(k2.isOk());
      auto y2 = run(*k2.value(), {&X}, 1, RunContext{});
      QCOMPARE(testutil::maxAbsDiff(y2[0], ref), 0.0);
      QVERIFY2(gradCheck(*k.value(), {X, pads, value}, {0}, RunContext{}, rng, &why), ("case " + std::to_string(i) + ": " + why).c_str());
    }
  }

  void padHandlesAxesAndIntegersAndErrors() {
    // opset 18 axes: pad only the last axis.
    auto k = build("Pad", {{"mode", Attribute::ofString("edge")}}, 18);
    QVERIFY(k.isOk());
    Tensor X = Tensor::fromVector<int64_t>({2, 2}, {1, 2, 3, 4});
    Tensor pads = int64s({1, 2}), axes = int64s({-1});
    auto y = run(*k.value(), {&X, &pads, nullptr, &axes}, 1, RunContext{});
    QVERIFY(!y.empty());
    QCOMPARE(y[0].shape(), (Shape{2, 5}));
    std::vector<int64_t> expect{1, 1, 2, 2, 2, 3, 3, 4, 4, 4};
    for (size_t i = 0; i < expect.size(); ++i) QCOMPARE(y[0].data<int64_t>()[i], expect[i]);
    auto bad = build("Pad", {{"mode", Attribute::ofString("mirror")}}, 13);
    QVERIFY(!bad.isOk());
    QVERIFY(bad.status().message().find("mirror") != std::string::npos);
    Tensor wrong = int64s({1, 1});
    std::vector<Tensor> out(1);
    QCOMPARE(build("Pad", {}, 13).value()->forward({&X, &wrong}, {&out[0]}, RunContext{}).kind(), ErrorKind::BadInput);
    QVERIFY(!build("Pad", {}, 10).isOk());  // opset < 11 needs the pads attribute
  }

  // Sizes are checked before the per-axis index maps are built: an empty
  // output builds none (an axis padded to 10^12 beside an empty one used to
  // ask for an 8 TB map), an output over the thread's tensor cap is refused
  // with its size, and pads that overflow int64 are refused by name.
  void padChecksSizesBeforeItsMaps() {
    auto k = build("Pad", {}, 13);
    QVERIFY(k.isOk());
    Tensor X(DType::Float, Shape{0, 2});
    Tensor pads = int64s({0, 0, 0, 1000000000000});
    std::vector<Tensor> out(1);
    Status st = k.value()->forward({&X, &pads}, {&out[0]}, RunContext{});
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(out[0].shape(), (Shape{0, 1000000000002}));

    Tensor Y(DType::Float, Shape{2, 2});
    Tensor wide = int64s({0, 0, 0, 1000});  // [2, 1002] floats: 8,016 bytes
    {
      TensorByteLimit cap(8000);
      bool refused = false;
      try {
        st = k.value()->forward({&Y, &wide}, {&out[0]}, RunContext{});
      } catch (const TensorTooLarge& e) {
        refused = true;
        QCOMPARE(e.bytes(), uint64_t(8016));
        QCOMPARE(e.limit(), uint64_t(8000));
      }
      QVERIFY(refused);
    }
    st = k.value()->forward({&Y, &wide}, {&out[0]}, RunContext{});
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(out[0].shape(), (Shape{2, 1002}));

    Tensor overflow = int64s({0, 0, 0, std::numeric_limits<int64_t>::max()});
    st = k.value()->forward({&Y, &overflow}, {&out[0]}, RunContext{});
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QVERIFY2(st.message().find("overflow") != std::string::npos, st.message().c_str());
  }

  // Resize's per-axis tables (4 taps per output index) wait for the output's
  // size too: an empty output builds none (an axis of 10^10 beside an empty
  // one used to ask for 320 GB), and one over the cap is refused with its size.
  void resizeChecksSizesBeforeItsTables() {
    auto k = build("Resize", {{"mode", Attribute::ofString("linear")}}, 13);
    QVERIFY(k.isOk());
    Tensor X(DType::Float, Shape{0, 2});
    Tensor sizes = int64s({0, 10000000000});
    std::vector<Tensor> out(1);
    Status st = k.value()->forward({&X, nullptr, nullptr, &sizes}, {&out[0]}, RunContext{});
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(out[0].shape(), (Shape{0, 10000000000}));

    Tensor Y(DType::Float, Shape{2, 2});
    Tensor wide = int64s({2, 1001});  // 8,008 bytes
    TensorByteLimit cap(8000);
    bool refused = false;
    try {
      st = k.value()->forward({&Y, nullptr, nullptr, &wide}, {&out[0]}, RunContext{});
    } catch (const TensorTooLarge& e) {
      refused = true;
      QCOMPARE(e.bytes(), uint64_t(8008));
    }
    QVERIFY(refused);
  }

  void resizeMatchesReference() {
    struct Case {
      Shape x;
      bool useSizes;
      std::vector<float> scales;
      std::vector<int64_t> sizes;
      std::string coord, mode, nearest;
    };
    std::vector<Case> cases{
        {{1, 2, 3, 4}, false, {1, 1, 2, 3}, {}, "half_pixel", "linear", ""},
        {{2, 1, 5, 6}, false, {1, 1, 0.6f, 0.5f}, {}, "half_pixel", "linear", ""},
        {{1, 2, 4, 5}, true, {}, {1, 2, 3, 7}, "align_corners", "linear", ""},
        {{1, 1, 4, 4}, true, {}, {1, 1, 1, 6}, "pytorch_half_pixel", "linear", ""},
        {{1, 2, 3, 4}, false, {1, 1, 2.5f, 1.5f}, {}, "asymmetric", "nearest", "floor"},
        {{1, 1, 5, 3}, true, {}, {1, 1, 3, 8}, "half_pixel", "nearest", "round_prefer_ceil"},
        {{1, 1, 4, 3}, true, {}, {1, 1, 7, 5}, "half_pixel", "nearest", "round_prefer_floor"},
        {{1, 1, 4, 3}, true, {}, {1, 1, 9, 2}, "align_corners", "nearest", "ceil"},
    };
    std::mt19937 rng(32);
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      std::map<std::string, Attribute> a{{"coordinate_transformation_mode", Attribute::ofString(c.coord)},
                                         {"mode", Attribute::ofString(c.mode)}};
      if (!c.nearest.empty()) a["nearest_mode"] = Attribute::ofString(c.nearest);
      auto k = build("Resize", a, 13);
      QVERIFY2(k.isOk(), k.status().message().c_str());
      Tensor X = randomTensor(c.x, rng);
      Tensor scales = floats(c.scales), sizes = int64s(c.sizes);
      int64_t oh, ow;
      double sh, sw;
      if (c.useSizes) {
        oh = c.sizes[2];
        ow = c.sizes[3];
        sh = double(oh) / double(c.x[2]);
        sw = double(ow) / double(c.x[3]);
      } else {
        sh = c.scales[2];
        sw = c.scales[3];
        oh = static_cast<int64_t>(std::floor(c.x[2] * sh));
        ow = static_cast<int64_t>(std::floor(c.x[3] * sw));
      }
      Tensor ref = refResize2d(X, oh, ow, sh, sw, c.coord, c.mode, c.nearest.empty() ? "round_prefer_floor" : c.nearest);
      std::string why;
      auto y = run(*k.value(), {&X, nullptr, c.useSizes ? nullptr : &scales, c.useSizes ? &sizes : nullptr}, 1,
                   RunContext{}, &why);
      QVERIFY2(!y.empty(), why.c_str());
      QCOMPARE(y[0].shape(), ref.shape());
      QVERIFY2(testutil::allClose(y[0], ref, 1e-5, 1e-6, &why), ("case " + std::to_string(i) + ": " + why).c_str());
    }
  }

  void upsampleRepeatsPixels() {
    auto k = build("Upsample", {{"scales", Attribute::ofFloats({1, 1, 2, 3})}}, 7);
    QVERIFY(k.isOk());
    Tensor X = Tensor::fromVector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
    auto y = run(*k.value(), {&X}, 1, RunContext{});
    QCOMPARE(y[0].shape(), (Shape{1, 1, 4, 6}));
    std::vector<float> row0{1, 1, 1, 2, 2, 2}, row3{3, 3, 3, 4, 4, 4};
    for (int i = 0; i < 6; ++i) {
      QCOMPARE(y[0].at(i), row0[static_cast<size_t>(i)]);
      QCOMPARE(y[0].at(18 + i), row3[static_cast<size_t>(i)]);
    }
    auto bad = build("Resize", {{"coordinate_transformation_mode", Attribute::ofString("diagonal")}}, 13);
    QVERIFY(!bad.isOk());
    QVERIFY(bad.status().message().find("coordinate_transformation_mode") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestOpsNnResample)
#include "test_ops_nn_resample.moc"
