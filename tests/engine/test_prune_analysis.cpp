// Sensitivity sweeps (threads, progress, cancel, agreement) and dynamic
// channel-skipping analysis.
#include <QtTest>

#include <atomic>

#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/dynamic.h"
#include "topiary/executor.h"
#include "topiary/sensitivity.h"

using namespace topiary;

namespace {
Graph lenet() { return testutil::architecture("lenet5"); }
}  // namespace

class TestPruneAnalysis : public QObject {
  Q_OBJECT
  Dataset data_;

 private slots:
  void initTestCase() {
    DatasetOptions o;
    o.limit = 200;
    auto d = loadDataset("fashion-mnist", o);
    if (!d) QSKIP(d.status().message().c_str());
    data_ = std::move(d.value());
  }

  void sensitivityCurves() {
    Graph g = lenet();
    SensitivityOptions o;
    o.sparsities = {0.0, 0.99};
    o.workers = 2;
    o.agreement = true;
    std::atomic<int> calls{0};
    o.progress = [&](int, int total) {
      calls++;
      QCOMPARE(total, 10);
    };
    auto r = runSensitivity(g, data_, o);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QCOMPARE(calls.load(), 10);
    QCOMPARE(r->layers.size(), size_t(5));
    QVERIFY(r->agreement);
    for (const auto& c : r->layers) {
      QCOMPARE(c.accuracies.size(), size_t(2));
      QCOMPARE(c.accuracies[0], 1.0);  // sparsity 0: the dense model agrees with itself
    }
    // Removing 99% of fc1 changes predictions.
    QVERIFY(r->layers[2].accuracies[1] < 1.0);
  }

  void sensitivitySkipsInapplicable() {
    Graph g = lenet();
    SensitivityOptions o;
    o.granularity = Granularity::Kernel;
    o.sparsities = {0.5};
    o.workers = 1;
    auto r = runSensitivity(g, data_, o);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QVERIFY(r->layers[0].skipped.empty());  // conv1
    QVERIFY(!r->layers[2].skipped.empty());  // fc1: no kernels
    QVERIFY(r->layers[2].accuracies.empty());
    // Each skipped layer's reason speaks of that layer, not of the first one skipped.
    int skipped = 0;
    for (const auto& c : r->layers) {
      if (c.skipped.empty()) continue;
      ++skipped;
      QVERIFY2(c.skipped.rfind(c.layer + ":", 0) == 0, (c.layer + " -> " + c.skipped).c_str());
    }
    QCOMPARE(skipped, 3);  // fc1, fc2, fc3
  }

  // Settings no layer can take are an error, not a table of skipped rows
  // each naming the first layer (bn_scale with element granularity; bn_scale
  // on a model without BatchNorm).
  void sensitivityRefusesSettingsNoLayerTakes() {
    Graph g = lenet();
    SensitivityOptions o;
    o.sparsities = {0.5};
    o.workers = 1;
    o.criterion = Criterion::BnScale;
    o.granularity = Granularity::Element;
    auto r = runSensitivity(g, data_, o);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().kind(), ErrorKind::BadInput);
    QVERIFY2(r.status().message().find("bn_scale") != std::string::npos &&
                 r.status().message().find("'element'") != std::string::npos,
             r.status().message().c_str());
    o.granularity = Granularity::Filter;  // LeNet-5 has no BatchNorm
    r = runSensitivity(g, data_, o);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().kind(), ErrorKind::BadInput);
    QVERIFY2(r.status().message().find("BatchNormalization") != std::string::npos, r.status().message().c_str());
  }

  void sensitivityCancels() {
    Graph g = lenet();
    SensitivityOptions o;
    std::atomic<bool> cancel{true};
    o.cancel = &cancel;
    auto r = runSensitivity(g, data_, o);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().kind(), ErrorKind::Cancelled);
  }

  void dynamicSkipping() {
    Graph g = lenet();
    // conv2 reads pool1(relu1(conv1)): make conv1 filter 2 always negative -> channel 2 silent.
    Tensor& w = g.initializers.at("conv1.weight");
    for (int64_t e = 0; e < 25; ++e) w.f()[2 * 25 + e] = -1.f;
    g.initializers.at("conv1.bias").f()[2] = -1.f;
    Tensor x({3, 1, 28, 28});
    for (int64_t i = 0; i < x.numel(); ++i) x.f()[i] = static_cast<float>(i % 7) / 7.f;
    auto r = analyzeDynamicSkipping(g, x);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QCOMPARE(r->layers.size(), size_t(1));  // conv1 reads the graph input: only conv2 counts
    const auto& l = r->layers[0];
    QCOMPARE(l.channels, int64_t(6));
    QVERIFY(l.meanSkippedChannels >= 1.0);
    // conv2: per output 6 x 5 x 5 multiply-adds (300 FLOPs) + 1 for the bias;
    // a skipped channel saves 1/6 of the multiply-adds.
    QVERIFY(l.meanSavedFlops >= l.flopsPerInput * 300.0 / 301.0 / 6.0 - 1e-6);
    QCOMPARE(r->inputs.size(), size_t(3));
    QVERIFY(r->inputs[0].savedFlops > 0 && r->inputs[0].savedFlops < r->inputs[0].flops);
    // A huge threshold skips every channel.
    DynamicOptions o;
    o.threshold = 1e9f;
    auto all = analyzeDynamicSkipping(g, x, o);
    QVERIFY(all.isOk());
    QCOMPARE(all->layers[0].meanSkippedChannels, 6.0);
  }
};

QTEST_APPLESS_MAIN(TestPruneAnalysis)
#include "test_prune_analysis.moc"
