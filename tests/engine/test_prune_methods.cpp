// Pruning methods and schedules on small models and a few thousand
// Fashion-MNIST images: masks survive fine-tuning, AGP values, ADMM and DNS
// reach their targets, structured pruning gives a smaller equivalent graph.
#include <QtTest>

#include <cmath>
#include <set>

#include "arch/graph_builder.h"
#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/quantize.h"
#include "topiary/recipe.h"

using namespace topiary;

namespace {

Graph smallMlp() {
  arch::GraphBuilder b("mlp", 7);
  std::string x = b.input("input", {1, 28, 28});
  x = b.flatten(x, "flatten");
  x = b.relu(b.gemm(x, "fc1", 784, 64), "relu1");
  x = b.gemm(x, "fc2", 64, 10);
  b.output(x, "logits", {10});
  auto g = b.finish();
  if (!g) qFatal("%s", g.status().message().c_str());
  return std::move(g.value());
}

int64_t zerosOf(const Tensor& t) {
  int64_t z = 0;
  for (int64_t i = 0; i < t.numel(); ++i) z += t.f()[i] == 0.f;
  return z;
}

}  // namespace

class TestPruneMethods : public QObject {
  Q_OBJECT
  Dataset train_, test_;
  Graph trained_;
  double denseAccuracy_ = 0;

  double accuracy(const Graph& g) {
    auto e = evaluate(g, test_, 256, 0);
    if (!e) qFatal("%s", e.status().message().c_str());
    return e->accuracy;
  }

  // Runs the recipe on the trained MLP with the training images; a failure
  // ends the test with the engine's message.
  PruneRunResult runOnTrain(const Recipe& r) {
    PruneRunOptions o;
    o.trainData = &train_;
    auto res = runRecipe(trained_, r, o);
    if (!res) qFatal("%s", res.status().message().c_str());
    return std::move(res.value());
  }

  // ADMM taking 90% of fc1's weights (fc2 dense), `iterations` rounds at rho 0.01.
  static Recipe admm90(int iterations) {
    Recipe r;
    r.defaults.sparsity = 0.9;
    r.layers["fc2"].sparsity = 0.0;
    r.method = PruneMethod::Admm;
    r.admm.iterations = iterations;
    r.admm.rho = 0.01f;
    return r;
  }

 private slots:
  void initTestCase() {
    DatasetOptions o;
    o.limit = 3000;
    auto tr = loadDataset("fashion-mnist:train", o);
    if (!tr) QSKIP(tr.status().message().c_str());
    train_ = std::move(tr.value());
    o.limit = 1000;
    auto te = loadDataset("fashion-mnist", o);
    QVERIFY(te.isOk());
    test_ = std::move(te.value());
    trained_ = smallMlp();
    TrainOptions to;
    to.epochs = 3;
    to.lr = 0.05f;
    QVERIFY(train(trained_, train_, to).isOk());
    denseAccuracy_ = accuracy(trained_);
    qInfo("dense MLP accuracy %.3f", denseAccuracy_);
    QVERIFY(denseAccuracy_ > 0.6);
  }

  void agpValues() {
    QCOMPARE(agpSparsity(0, 0.8, 0, 4), 0.0);
    QVERIFY(std::fabs(agpSparsity(0, 0.8, 1, 4) - 0.8 * (1 - 0.421875)) < 1e-12);
    QVERIFY(std::fabs(agpSparsity(0, 0.8, 2, 4) - 0.7) < 1e-12);
    QVERIFY(std::fabs(agpSparsity(0, 0.8, 3, 4) - 0.7875) < 1e-12);
    QCOMPARE(agpSparsity(0.2, 0.8, 4, 4), 0.8);
    ScheduleConfig s;
    s.kind = ScheduleKind::Agp;
    auto t = scheduleTargets(s, 0.8, 4);
    QCOMPARE(t.size(), size_t(4));
    QVERIFY(std::fabs(t[1] - 0.7 / 0.8) < 1e-12);
    s.kind = ScheduleKind::Iterative;
    t = scheduleTargets(s, 0.8, 4);
    QCOMPARE(t[0], 0.25);
  }

  void masksSurviveFinetuning() {
    Graph g = trained_;
    PruneConfig c;
    c.layers["fc1"].sparsity = 0.8;
    auto m = computeMasks(g, c);
    QVERIFY(m.isOk());
    QVERIFY(applyMasks(g, m.value()).isOk());
    int64_t before = zerosOf(g.initializers.at("fc1.weight"));
    TrainOptions to;
    to.epochs = 1;
    to.maxBatchesPerEpoch = 20;
    QVERIFY(train(g, train_, to, &m.value()).isOk());
    const Tensor& w = g.initializers.at("fc1.weight");
    const Tensor& mask = m->at("fc1.weight");
    QCOMPARE(zerosOf(w), before);
    for (int64_t i = 0; i < w.numel(); ++i)
      if (mask.f()[i] == 0.f) QCOMPARE(w.f()[i], 0.f);
  }

  void magnitudeAgpWithFinetune() {
    Recipe r;
    r.defaults.sparsity = 0.8;
    r.layers["fc2"].sparsity = 0.0;
    r.schedule.kind = ScheduleKind::Agp;
    r.schedule.steps = 3;
    r.finetune.epochs = 1;
    r.finetune.lr = 0.02f;
    PruneRunOptions o;
    o.trainData = &train_;
    std::vector<std::string> stages;
    o.progress = [&](const PruneProgress& p) {
      if (!p.training) stages.push_back(p.stage);
      return true;
    };
    auto res = runRecipe(trained_, r, o);
    QVERIFY2(res.isOk(), res.status().message().c_str());
    QCOMPARE(stages.size(), size_t(3));
    const Tensor& w = res->masked.initializers.at("fc1.weight");
    QCOMPARE(zerosOf(w), int64_t(std::llround(50176 * 0.8)));
    QCOMPARE(zerosOf(res->masked.initializers.at("fc2.weight")), int64_t(0));
    // The schedule rises: 0.8*(1-(2/3)^3), 0.8*(1-(1/3)^3), 0.8 of fc1's weights.
    QCOMPARE(res->stepSparsities.size(), size_t(3));
    QVERIFY(res->stepSparsities[0] < res->stepSparsities[1] && res->stepSparsities[1] < res->stepSparsities[2]);
    double acc = accuracy(res->masked);
    qInfo("AGP 80%% fc1: accuracy %.3f (dense %.3f)", acc, denseAccuracy_);
    QVERIFY(acc > denseAccuracy_ - 0.08);
  }

  void admmReachesTarget() {
    Recipe r = admm90(3);
    r.admm.epochs = 1;
    r.finetune.epochs = 1;
    r.finetune.lr = 0.02f;
    auto res = runOnTrain(r);
    QCOMPARE(zerosOf(res.masked.initializers.at("fc1.weight")), int64_t(std::llround(50176 * 0.9)));
    double acc = accuracy(res.masked);
    qInfo("ADMM 90%% fc1: accuracy %.3f (dense %.3f)", acc, denseAccuracy_);
    QVERIFY(acc > denseAccuracy_ - 0.1);
    // ADMM pulled W toward Z: the primal gap shrank between the first and last iteration.
    QVERIFY(res.log.size() >= 3);
  }

  void admmRhoGrowthParses() {
    auto r = parseRecipe(R"({"method": "admm", "admm": {"rho": 0.01, "rho_growth": 3}})");
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QCOMPARE(r->admm.rhoGrowth, 3.f);
    QCOMPARE(recipeToJson(r.value())["admm"]["rho_growth"].get<double>(), 3.0);
    auto aug = parseRecipe(R"({"finetune": {"augment_shift": 2, "augment_flip": true}})");
    QVERIFY2(aug.isOk(), aug.status().message().c_str());
    QCOMPARE(aug->finetune.augmentShift, 2);
    QVERIFY(aug->finetune.augmentFlip);
    QCOMPARE(recipeToJson(aug.value())["finetune"]["augment_shift"].get<int>(), 2);
    auto badShift = parseRecipe(R"({"finetune": {"augment_shift": 30}})");
    QVERIFY(!badShift.isOk());
    QVERIFY(badShift.status().message().find("finetune.augment_shift") != std::string::npos);
    auto bad = parseRecipe(R"({"method": "admm", "admm": {"rho_growth": 0.5}})");
    QVERIFY(!bad.isOk());
    QVERIFY2(bad.status().message().find("admm.rho_growth") != std::string::npos, bad.status().message().c_str());
  }

  // A growing rho pulls W onto the sparse Z: the last primal residual is
  // smaller than with rho held at its starting value, and the log shows rho
  // multiplied by the growth each iteration.
  void admmRhoGrowthClosesGap() {
    auto lastGap = [&](float growth, std::vector<std::string>& lines) {
      Recipe r = admm90(3);
      r.admm.epochs = 1;
      r.admm.rhoGrowth = growth;
      r.finetune.epochs = 0;
      r.finetune.lr = 0.02f;
      r.finetune.maxBatches = 20;
      auto res = runOnTrain(r);
      lines.clear();
      double gap = -1;
      for (const auto& l : res.log) {
        auto at = l.find("||W - Z|| / ||W|| = ");
        if (at == std::string::npos) continue;
        lines.push_back(l);
        gap = std::stod(l.substr(at + 20));
      }
      return gap;
    };
    std::vector<std::string> fixedLog, growLog;
    double fixed = lastGap(1.f, fixedLog), grown = lastGap(10.f, growLog);
    qInfo("ADMM last ||W - Z|| / ||W||: rho fixed %.4f, rho x10 per iteration %.4f", fixed, grown);
    QCOMPARE(growLog.size(), size_t(3));
    QVERIFY2(growLog[2].find("rho 1,") != std::string::npos, growLog[2].c_str());
    QVERIFY2(fixedLog[2].find("rho 0.01,") != std::string::npos, fixedLog[2].c_str());
    QVERIFY(grown >= 0 && fixed > 0);
    QVERIFY(grown < 0.5 * fixed);
  }

  // "ranking": "global" constrains the total: ADMM ranks both layers together,
  // so the 90% lands unevenly (fc1's many small weights go first), not 90% each.
  void admmGlobalRanking() {
    Recipe r;
    r.defaults.sparsity = 0.9;
    r.globalRanking = true;
    r.method = PruneMethod::Admm;
    r.admm.iterations = 2;
    r.admm.rho = 0.01f;
    r.finetune.epochs = 1;
    r.finetune.maxBatches = 20;
    auto res = runOnTrain(r);
    int64_t z1 = zerosOf(res.masked.initializers.at("fc1.weight"));
    int64_t z2 = zerosOf(res.masked.initializers.at("fc2.weight"));
    qInfo("ADMM global 90%%: fc1 %.3f, fc2 %.3f sparse", z1 / 50176.0, z2 / 640.0);
    QCOMPARE(z1 + z2, int64_t(std::llround((50176 + 640) * 0.9)));
    QVERIFY(z1 != int64_t(std::llround(50176 * 0.9)));
    QVERIFY(z1 / 50176.0 > z2 / 640.0);
  }

  void dnsSplicesBack() {
    Recipe r;
    r.defaults.sparsity = 0.85;
    r.layers["fc2"].sparsity = 0.0;
    r.method = PruneMethod::Dns;
    r.dns.updateEvery = 5;
    r.dns.hysteresis = 0.2f;
    r.finetune.epochs = 1;
    r.finetune.lr = 0.05f;
    auto res = runOnTrain(r);
    QCOMPARE(res.dns.size(), size_t(1));
    const DnsLayerStats& d = res.dns[0];
    double s = static_cast<double>(d.pruned) / static_cast<double>(d.weights);
    qInfo("DNS fc1: sparsity %.3f, %lld spliced back, %lld pruned later", s, static_cast<long long>(d.spliceBacks),
          static_cast<long long>(d.prunings));
    QVERIFY(s >= 0.85 - 1e-3 && s < 0.9);
    QVERIFY(d.spliceBacks > 0);
    QCOMPARE(zerosOf(res.masked.initializers.at("fc1.weight")), d.pruned);
    QVERIFY(accuracy(res.masked) > denseAccuracy_ - 0.1);
  }

  void quantizationAwareFinetune() {
    Recipe r;
    r.defaults.sparsity = 0.5;
    r.finetune.epochs = 1;
    r.finetune.maxBatches = 30;
    r.quantize.bits = 4;
    r.quantize.aware = true;
    auto res = runOnTrain(r);
    const Tensor& w = res.masked.initializers.at("fc1.weight");  // [64, 784]
    for (int64_t row = 0; row < 64; row += 13) {
      std::set<float> levels;
      for (int64_t i = 0; i < 784; ++i) levels.insert(w.f()[row * 784 + i]);
      QVERIFY(levels.size() <= 15);
    }
    QVERIFY(zerosOf(w) >= int64_t(50176 / 2));
    QVERIFY(accuracy(res.masked) > denseAccuracy_ - 0.15);
  }

  void finetuneWithoutDataIsBadInput() {
    Recipe r;
    r.defaults.sparsity = 0.5;
    r.finetune.epochs = 1;
    auto res = runRecipe(trained_, r, {});
    QVERIFY(!res.isOk());
    QCOMPARE(res.status().kind(), ErrorKind::BadInput);
    QVERIFY(res.status().message().find("finetune") != std::string::npos);
  }

  void filterPruningRemovesChannels() {
    auto lenet = buildArchitecture("lenet5");
    QVERIFY(lenet.isOk());
    Recipe r;
    r.defaults.granularity = Granularity::Filter;
    r.defaults.sparsity = 0.5;
    auto res = runRecipe(lenet.value(), r, {});
    QVERIFY2(res.isOk(), res.status().message().c_str());
    QVERIFY(res->structural);
    // conv1 6->3, conv2 16->8, fc1 120->60, fc2 84->42; fc3 (logits) untouched.
    QCOMPARE(res->removed.initializers.at("conv1.weight").dim(0), int64_t(3));
    QCOMPARE(res->removed.initializers.at("conv2.weight").dim(0), int64_t(8));
    QCOMPARE(res->removed.initializers.at("fc2.weight").dim(0), int64_t(42));
    QCOMPARE(res->removed.initializers.at("fc3.weight").dim(0), int64_t(10));
    QVERIFY(res->removed.paramCount() < res->masked.paramCount() / 2);
    QVERIFY(checkModel(res->removed).isOk());
    // Same function: masked and removed graphs agree.
    Tensor x({2, 1, 28, 28});
    for (int64_t i = 0; i < x.numel(); ++i) x.f()[i] = static_cast<float>((i * 37) % 101) / 101.f;
    auto a = Executor::create(res->masked), b = Executor::create(res->removed);
    QVERIFY(a.isOk() && b.isOk());
    QVERIFY((*a)->run(x).isOk() && (*b)->run(x).isOk());
    QVERIFY(testutil::maxAbsDiff((*a)->output(0), (*b)->output(0)) < 1e-4);
  }

  void taylorCriterionUsesData() {
    PruneConfig c;
    c.layers["fc1"].sparsity = 0.5;
    c.layers["fc1"].criterion = Criterion::Taylor;
    MaskOptions mo;
    auto none = computeMasks(trained_, c, mo);
    QVERIFY(!none.isOk());
    QVERIFY(none.status().message().find("taylor") != std::string::npos);
    mo.data = &train_;
    auto m = computeMasks(trained_, c, mo);
    QVERIFY2(m.isOk(), m.status().message().c_str());
    QCOMPARE(zerosOf(m->at("fc1.weight")), int64_t(25088));
    // Taylor keeps the model better than random at the same sparsity.
    Graph gt = trained_, gr = trained_;
    QVERIFY(applyMasks(gt, m.value()).isOk());
    c.layers["fc1"].criterion = Criterion::Random;
    c.layers["fc1"].sparsity = 0.5;
    auto mr = computeMasks(trained_, c, mo);
    QVERIFY(applyMasks(gr, mr.value()).isOk());
    QVERIFY(accuracy(gt) > accuracy(gr));
  }
};

QTEST_APPLESS_MAIN(TestPruneMethods)
#include "test_prune_methods.moc"
