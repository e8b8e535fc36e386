// KernelTuneCache: executors sharing one reuse the kernel choices of layers
// they have seen (same shapes and weight zero pattern) instead of timing
// again, get the same outputs, and time a layer again once its zero pattern
// changes.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "common/test_util.h"
#include "topiary/executor.h"
#include "topiary/kernel_tune_cache.h"
#include "topiary/onnx_io.h"

using namespace topiary;

namespace {

Tensor randomImages(int64_t n) {
  Tensor t(DType::Float, {n, 1, 28, 28});
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.f()[i] = u(rng);
  return t;
}

struct Run {
  std::vector<std::string> choices;
  Tensor out;
};

Run runWith(const Graph& g, const std::shared_ptr<KernelTuneCache>& cache, const Tensor& x) {
  ExecutorOptions eo;
  eo.threads = 1;
  eo.optimizeForInference = true;
  eo.tuneCache = cache;
  auto ex = Executor::create(g, eo);
  if (!ex) qFatal("%s", ex.status().message().c_str());
  Status s = (*ex)->run(x);
  if (!s) qFatal("%s", s.message().c_str());
  Run r;
  r.choices = (*ex)->kernelChoices();
  r.out = (*ex)->output(0);
  return r;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " | ") + x;
  return s;
}

// Zeroes the `fraction` smallest-magnitude weights of an initializer.
void pruneSmallest(Tensor& w, double fraction) {
  std::vector<float> mag(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) mag[static_cast<size_t>(i)] = std::fabs(w.f()[i]);
  const size_t k = static_cast<size_t>(fraction * static_cast<double>(mag.size()));
  std::nth_element(mag.begin(), mag.begin() + static_cast<long>(k), mag.end());
  const float cut = mag[k];
  for (int64_t i = 0; i < w.numel(); ++i)
    if (std::fabs(w.f()[i]) < cut) w.f()[i] = 0.f;
}

}  // namespace

class TestTuneCache : public QObject {
  Q_OBJECT
 private slots:
  void sharedCacheSkipsRetiming() {
    auto model = loadModel(testutil::sourcePath("resources/models/lenet5.onnx"));
    QVERIFY2(model.isOk(), model.status().message().c_str());
    Graph g = std::move(model.value());
    const Tensor x = randomImages(8);
    auto cache = std::make_shared<KernelTuneCache>();

    const Run first = runWith(g, cache, x);
    const size_t timed = cache->misses();
    QVERIFY2(timed >= 2, "both convolutions choose between several kernels");  // conv1, conv2
    QCOMPARE(cache->hits(), size_t(0));
    QCOMPARE(cache->size(), timed);

    // Same layers: every choice comes from the cache, nothing is timed.
    const Run second = runWith(g, cache, x);
    QCOMPARE(cache->misses(), timed);
    QCOMPARE(cache->hits(), timed);
    QCOMPARE(second.choices, first.choices);
    QCOMPARE(testutil::maxAbsDiff(second.out, first.out), 0.0);

    // fc1 pruned to 90%: only that Gemm (now with sparse candidates) is timed.
    Tensor& fc1 = g.initializers.at("fc1.weight");
    pruneSmallest(fc1, 0.9);
    const Run pruned = runWith(g, cache, x);
    QCOMPARE(cache->misses(), timed + 1);
    QCOMPARE(cache->hits(), 2 * timed);
    QCOMPARE(cache->size(), timed + 1);

    // Other values, the same zero pattern: the fc1 choice is reused too.
    for (int64_t i = 0; i < fc1.numel(); ++i) fc1.f()[i] *= 2.f;
    const Run scaled = runWith(g, cache, x);
    QCOMPARE(cache->misses(), timed + 1);
    QCOMPARE(cache->hits(), 3 * timed + 1);
    QVERIFY2(scaled.choices == pruned.choices, (join(scaled.choices) + " vs " + join(pruned.choices)).c_str());

    // An executor without a shared cache makes its own and leaves this one alone.
    runWith(g, nullptr, x);
    QCOMPARE(cache->misses(), timed + 1);
    QCOMPARE(cache->hits(), 3 * timed + 1);

    cache->clear();
    QCOMPARE(cache->size(), size_t(0));
    QCOMPARE(cache->hits(), size_t(0));
  }
};

QTEST_GUILESS_MAIN(TestTuneCache)
#include "test_tune_cache.moc"
