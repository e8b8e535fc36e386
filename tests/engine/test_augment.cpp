// Training augmentation (augmentBatch): every augmented image is the original
// shifted by at most `shift` pixels with edges replicated, mirrored or not;
// the draw is reproducible from the key and varies across images and keys.
#include <QtTest>

#include <algorithm>
#include <random>
#include <set>

#include "topiary/dataset.h"
#include "topiary/train.h"

using namespace topiary;

namespace {

Tensor randomBatch(int64_t n, int64_t c, int64_t h, int64_t w) {
  Tensor t(DType::Float, {n, c, h, w});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.f()[i] = u(rng);
  return t;
}

// Image i of `src` moved by (dx, dy), optionally mirrored, edges clamped: the reference.
bool matches(const Tensor& src, const Tensor& out, int64_t i, int dx, int dy, bool mirror) {
  const int64_t c = src.dim(1), h = src.dim(2), w = src.dim(3);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        int64_t sy = std::clamp<int64_t>(y - dy, 0, h - 1), sx = std::clamp<int64_t>(x - dx, 0, w - 1);
        if (mirror) sx = w - 1 - sx;
        if (out.f()[((i * c + ch) * h + y) * w + x] != src.f()[((i * c + ch) * h + sy) * w + sx]) return false;
      }
  return true;
}

}  // namespace

class TestAugment : public QObject {
  Q_OBJECT
 private slots:
  void offLeavesTheBatchAlone() {
    Tensor b = randomBatch(4, 1, 8, 8), orig = b;
    augmentBatch(b, 0, false, 123);
    QVERIFY(std::memcmp(b.raw(), orig.raw(), b.bytes()) == 0);
  }

  void everyImageIsAShiftedOrMirroredCopy() {
    const int shift = 2;
    Tensor orig = randomBatch(64, 2, 9, 7);
    Tensor b = orig;
    augmentBatch(b, shift, true, 42);
    int mirrored = 0, moved = 0;
    std::set<std::pair<int, int>> offsets;
    for (int64_t i = 0; i < 64; ++i) {
      bool found = false;
      for (int dy = -shift; dy <= shift && !found; ++dy)
        for (int dx = -shift; dx <= shift && !found; ++dx)
          for (bool m : {false, true})
            if (!found && matches(orig, b, i, dx, dy, m)) {
              found = true;
              mirrored += m;
              moved += dx != 0 || dy != 0;
              offsets.insert({dx, dy});
            }
      QVERIFY2(found, qPrintable(QString("image %1 is no shift within %2 px").arg(i).arg(shift)));
    }
    // Random images match only their own transform; the draw spreads over the choices.
    QVERIFY2(mirrored > 16 && mirrored < 48, qPrintable(QString::number(mirrored)));
    QVERIFY(moved > 40);
    QVERIFY(offsets.size() >= 12);  // of 25 possible offsets
  }

  void sameKeySameDrawOtherKeyOtherDraw() {
    Tensor orig = randomBatch(16, 1, 8, 8);
    Tensor a = orig, b = orig, c = orig;
    augmentBatch(a, 2, true, 5);
    augmentBatch(b, 2, true, 5);
    augmentBatch(c, 2, true, 6);
    QVERIFY(std::memcmp(a.raw(), b.raw(), a.bytes()) == 0);
    QVERIFY(std::memcmp(a.raw(), c.raw(), a.bytes()) != 0);
  }

  void trainerRefusesAnAbsurdShift() {
    TrainOptions o;
    o.augmentShift = 9;
    Graph g;
    Dataset d;
    Status st = train(g, d, o);
    QVERIFY(!st.isOk());
    QVERIFY2(QString::fromStdString(st.message()).contains("shift"), st.message().c_str());
  }
};

QTEST_GUILESS_MAIN(TestAugment)
#include "test_augment.moc"
