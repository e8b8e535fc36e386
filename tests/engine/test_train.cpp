// Training behaviour: learning, determinism, masks, cancellation, BatchNorm
// statistics, hooks, evaluation.
#include <QtTest>

#include <atomic>
#include <functional>
#include <limits>

#include "arch/graph_builder.h"
#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/dataset.h"
#include "topiary/train.h"

using namespace topiary;

namespace {

bool sameWeights(const Graph& a, const Graph& b) {
  for (const auto& kv : a.initializers)
    if (testutil::maxAbsDiff(kv.second, b.initializers.at(kv.first)) != 0.0) return false;
  return true;
}

}  // namespace

class TestTrain : public QObject {
  Q_OBJECT
  Dataset train_, test_;

 private slots:
  void initTestCase() {
    DatasetOptions o;
    o.limit = 6000;
    auto tr = loadDataset("fashion-mnist:train", o);
    QVERIFY2(tr.isOk(), tr.status().message().c_str());
    train_ = std::move(tr.value());
    o.limit = 1000;
    auto te = loadDataset("fashion-mnist", o);
    QVERIFY2(te.isOk(), te.status().message().c_str());
    test_ = std::move(te.value());
  }

  void lenet5LearnsFashionMnist() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    auto before = evaluate(g.value(), test_, 250, 1);
    QVERIFY(before.isOk());
    QVERIFY(before->accuracy < 0.3);  // untrained: near chance
    TrainOptions o;
    o.epochs = 2;
    o.batchSize = 32;
    o.optimizer = "adam";
    o.lr = 0.002f;
    o.threads = 1;
    int epochsSeen = 0;
    double lastLoss = 0, firstLoss = -1;
    auto progress = [&](const TrainProgress& p) {
      if (firstLoss < 0 && p.batch == 20) firstLoss = p.loss;
      if (p.epochDone) ++epochsSeen;
      lastLoss = p.loss;
      return true;
    };
    Status st = train(g.value(), train_, o, nullptr, {}, progress);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(epochsSeen, 2);
    QVERIFY(lastLoss < firstLoss);
    auto after = evaluate(g.value(), test_, 250, 1);
    QVERIFY(after.isOk());
    QCOMPARE(after->samples, int64_t(1000));
    QVERIFY2(after->accuracy > 0.70, qPrintable(QString::number(after->accuracy)));
    QCOMPARE(after->predictions.size(), size_t(1000));
    QVERIFY(after->loss < before->loss);
  }

  void sameSeedGivesIdenticalWeights() {
    TrainOptions o;
    o.maxBatchesPerEpoch = 8;
    o.batchSize = 32;
    o.threads = 1;
    o.seed = 5;
    auto a = buildArchitecture("resnet8"), b = buildArchitecture("resnet8");
    QVERIFY(a.isOk() && b.isOk());
    QVERIFY(train(a.value(), train_, o).isOk());
    QVERIFY(train(b.value(), train_, o).isOk());
    QVERIFY(sameWeights(a.value(), b.value()));
    auto c = buildArchitecture("resnet8");
    o.seed = 6;  // another shuffling order
    QVERIFY(train(c.value(), train_, o).isOk());
    QVERIFY(!sameWeights(a.value(), c.value()));
  }

  void maskedWeightsStayExactlyZero() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    MaskSet masks;
    for (const char* name : {"conv2.weight", "fc1.weight"}) {
      const Tensor& w = g->initializers.at(name);
      Tensor m(DType::Float, w.shape());
      for (int64_t i = 0; i < m.numel(); ++i) m.at(i) = (i % 3 == 0) ? 0.f : 1.f;
      masks[name] = m;
    }
    Graph original = g.value();
    for (const std::string opt : {"sgd", "adam"}) {
      TrainOptions o;
      o.optimizer = opt;
      o.weightDecay = 1e-3f;
      o.maxBatchesPerEpoch = 20;
      o.threads = 1;
      QVERIFY(train(g.value(), train_, o, &masks).isOk());
      for (const auto& kv : masks) {
        const Tensor& w = g->initializers.at(kv.first);
        const Tensor& w0 = original.initializers.at(kv.first);
        int64_t changed = 0;
        for (int64_t i = 0; i < w.numel(); ++i) {
          if (kv.second.at(i) == 0.f) QCOMPARE(w.at(i), 0.f);
          else changed += w.at(i) != w0.at(i);
        }
        QVERIFY(changed > w.numel() / 2);
      }
    }
    // A mask of the wrong shape is rejected before anything changes.
    MaskSet bad{{"fc1.weight", Tensor(DType::Float, {3})}};
    Graph copy = g.value();
    QCOMPARE(train(g.value(), train_, TrainOptions{}, &bad).kind(), ErrorKind::BadInput);
    QVERIFY(sameWeights(copy, g.value()));
  }

  void cancelRestoresWeights() {
    auto g = buildArchitecture("resnet8");
    QVERIFY(g.isOk());
    Graph original = g.value();
    TrainOptions o;
    o.threads = 1;
    int calls = 0;
    Status st = train(g.value(), train_, o, nullptr, {}, [&](const TrainProgress&) { return ++calls < 5; });
    QCOMPARE(st.kind(), ErrorKind::Cancelled);
    QCOMPARE(calls, 5);
    QVERIFY(sameWeights(original, g.value()));  // includes BatchNorm running statistics
    std::atomic<bool> cancel{false};
    TrainHooks hooks;
    int steps = 0;
    hooks.afterStep = [&](Graph&, int64_t) {
      if (++steps == 3) cancel = true;
    };
    st = train(g.value(), train_, o, nullptr, hooks, {}, &cancel);
    QCOMPARE(st.kind(), ErrorKind::Cancelled);
    QCOMPARE(steps, 3);
    QVERIFY(sameWeights(original, g.value()));
  }

  void batchNormStatisticsAndHooks() {
    auto g = buildArchitecture("resnet8");
    QVERIFY(g.isOk());
    TrainOptions o;
    o.epochs = 2;
    o.maxBatchesPerEpoch = 4;
    o.batchSize = 16;
    o.threads = 1;
    int before = 0, after = 0, steps = 0, epochs = 0;
    size_t gradCount = 0;
    TrainHooks h;
    h.beforeForward = [&](Graph&) { ++before; };
    h.afterBackward = [&](Graph&, std::map<std::string, Tensor>& grads) {
      ++after;
      gradCount = grads.size();
      QVERIFY(grads.count("stem.weight") == 1);
      QVERIFY(grads.count("stem_bn.mean") == 0);
    };
    h.afterStep = [&](Graph&, int64_t s) { steps = static_cast<int>(s); };
    h.afterEpoch = [&](Graph&, int e) { epochs = e; };
    Dataset trainPart, val;
    splitDataset(train_, 0.1, 3, trainPart, val);
    double valAcc = -2;
    Status st = train(g.value(), trainPart, o, nullptr, h,
                      [&](const TrainProgress& p) {
                        if (p.epochDone) valAcc = p.validationAccuracy;
                        return true;
                      },
                      nullptr, &val);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(before, 8);
    QCOMPARE(after, 8);
    QCOMPARE(steps, 8);
    QCOMPARE(epochs, 2);
    QVERIFY(valAcc >= 0 && valAcc <= 1);
    // Parameters: 9 convs (no bias), 9 BatchNorm scale+bias, fc weight+bias.
    QCOMPARE(gradCount, size_t(9 + 18 + 2));
    // Running mean moved away from its initial zeros, running var from ones;
    // the stem sees raw pixels in [0,1], so its conv output mean is not zero.
    const Tensor& mean = g->initializers.at("stem_bn.mean");
    const Tensor& var = g->initializers.at("stem_bn.var");
    double dm = 0, dv = 0;
    for (int64_t i = 0; i < mean.numel(); ++i) {
      dm += std::fabs(mean.at(i));
      dv += std::fabs(var.at(i) - 1.f);
      QVERIFY(var.at(i) > 0);
    }
    QVERIFY(dm > 1e-3);
    QVERIFY(dv > 1e-3);
  }

  void softmaxOutputTrainsOnLogits() {
    // lenet-300-100 followed by Softmax: the loss is taken on the Softmax's input.
    auto g = buildArchitecture("lenet-300-100");
    QVERIFY(g.isOk());
    Node sm;
    sm.name = "softmax";
    sm.opType = "Softmax";
    sm.inputs = {"logits"};
    sm.outputs = {"probs"};
    g->nodes.push_back(sm);
    g->outputs[0].name = "probs";
    QVERIFY(g->validate().isOk());
    TrainOptions o;
    o.optimizer = "adam";
    o.lr = 0.001f;
    o.maxBatchesPerEpoch = 60;
    o.threads = 1;
    QVERIFY(train(g.value(), train_, o).isOk());
    auto r = evaluate(g.value(), test_, 500, 1);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QVERIFY2(r->accuracy > 0.6, qPrintable(QString::number(r->accuracy)));
  }

  void badOptionsAndDataAreRejected() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    TrainOptions o;
    o.optimizer = "rmsprop";
    Status st = train(g.value(), train_, o);
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QVERIFY(st.message().find("rmsprop") != std::string::npos);
    o = TrainOptions{};
    o.epochs = 0;
    QCOMPARE(train(g.value(), train_, o).kind(), ErrorKind::BadInput);
    QCOMPARE(train(g.value(), Dataset{}, TrainOptions{}).kind(), ErrorKind::BadInput);
    // NaN passed `< 0` checks; a negative step factor made the rate negative.
    // Each is refused before a weight changes, naming the option.
    const Graph untouched = g.value();
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    const std::vector<std::pair<std::function<void(TrainOptions&)>, std::string>> bad = {
        {[&](TrainOptions& t) { t.momentum = nan; }, "momentum"},
        {[&](TrainOptions& t) { t.weightDecay = nan; }, "weight decay"},
        {[&](TrainOptions& t) { t.weightDecay = inf; }, "weight decay"},
        {[&](TrainOptions& t) { t.schedule = "step", t.stepGamma = -1.f; }, "decay factor"},
        {[&](TrainOptions& t) { t.schedule = "step", t.stepGamma = nan; }, "decay factor"},
        {[&](TrainOptions& t) { t.schedule = "step", t.stepEvery = 0; }, "epochs between decays"},
    };
    for (const auto& b : bad) {
      o = TrainOptions{};
      o.maxBatchesPerEpoch = 2;
      b.first(o);
      st = train(g.value(), train_, o);
      QCOMPARE(st.kind(), ErrorKind::BadInput);
      QVERIFY2(st.message().find(b.second) != std::string::npos, st.message().c_str());
    }
    QVERIFY(sameWeights(untouched, g.value()));
    // Labels beyond the model's classes.
    Dataset wrong;
    wrong.images = Tensor(DType::Float, {4, 1, 28, 28});
    wrong.labels = {0, 1, 12, 3};
    wrong.numClasses = 13;
    Graph copy = g.value();
    st = train(g.value(), wrong, TrainOptions{});
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QVERIFY(st.message().find("12") != std::string::npos);
    QVERIFY(sameWeights(copy, g.value()));
    QCOMPARE(evaluate(g.value(), test_, 0).status().kind(), ErrorKind::BadInput);
  }

  void evaluateCountsCorrectPredictions() {
    // A graph whose logits are its flattened input: prediction = argmax pixel.
    arch::GraphBuilder b("identity", 1);
    std::string x = b.input("input", {1, 1, 4});
    b.output(b.flatten(x, "flat"), "logits", {4});
    auto g = b.finish();
    QVERIFY(g.isOk());
    Dataset d;
    d.images = Tensor(DType::Float, {5, 1, 1, 4});
    int hot[5] = {0, 3, 2, 2, 1};
    for (int i = 0; i < 5; ++i) d.images.at(i * 4 + hot[i]) = 1.f;
    d.labels = {0, 3, 1, 2, 1};  // 4 of 5 right
    d.numClasses = 4;
    auto r = evaluate(g.value(), d, 2, 1);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QCOMPARE(r->samples, int64_t(5));
    QCOMPARE(r->accuracy, 0.8);
    QCOMPARE(r->batchMs.size(), size_t(3));
    QCOMPARE(r->predictions, (std::vector<int>{0, 3, 2, 2, 1}));

    // The same samples in two data sets on one Evaluator (the preview's
    // estimate, then its refinement) give the same totals as one evaluate().
    auto part = [&](int64_t begin, int64_t count) {
      Dataset p;
      p.images = Tensor(DType::Float, {count, 1, 1, 4});
      std::copy(d.images.f() + begin * 4, d.images.f() + (begin + count) * 4, p.images.f());
      p.labels.assign(d.labels.begin() + begin, d.labels.begin() + begin + count);
      p.numClasses = 4;
      return p;
    };
    auto ev = Evaluator::create(g.value());
    QVERIFY2(ev.isOk(), ev.status().message().c_str());
    QVERIFY(ev.value()->add(part(0, 3), 2).isOk());
    QCOMPARE(ev.value()->samples(), int64_t(3));
    QCOMPARE(ev.value()->correct(), int64_t(2));  // labels 0,3,1 against 0,3,2
    QVERIFY(ev.value()->add(part(3, 2), 256).isOk());
    const EvalResult staged = ev.value()->result();
    QCOMPARE(staged.samples, r->samples);
    QCOMPARE(staged.accuracy, r->accuracy);
    QCOMPARE(staged.loss, r->loss);
    QCOMPARE(staged.predictions, r->predictions);
    QCOMPARE(staged.batchMs.size(), size_t(3));  // 2 + 1 batches
    // A bad data set is refused and the totals stay as they were.
    Dataset bad;
    bad.images = Tensor(DType::Float, {2, 1, 1, 5});
    bad.labels = {0, 1};
    bad.numClasses = 4;
    QVERIFY(!ev.value()->add(bad, 2).isOk());
    QCOMPARE(ev.value()->samples(), int64_t(5));
    QCOMPARE(ev.value()->result().accuracy, 0.8);
    QCOMPARE(ev.value()->add(part(0, 1), 0).kind(), ErrorKind::BadInput);
  }
};

QTEST_GUILESS_MAIN(TestTrain)
#include "test_train.moc"
