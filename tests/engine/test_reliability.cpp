// "Nothing lost" in the engine: a cancelled or failed fine-tune leaves every
// initializer bit-identical to before it started (masks included), cancel
// takes effect before the next batch, and atomic writes leave either the old
// file or the new one with no temporary file behind.
#include <QtTest>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/dataset.h"
#include "topiary/executor.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"
#include "topiary/train.h"

using namespace topiary;
namespace fs = std::filesystem;

namespace {

// Every initializer with the same name, dtype, shape and bytes (memcmp, so
// -0.0 vs 0.0 or a changed NaN payload counts as a difference).
std::string bitDifference(const Graph& a, const Graph& b) {
  if (a.initializers.size() != b.initializers.size()) return "initializer count differs";
  for (const auto& kv : a.initializers) {
    auto it = b.initializers.find(kv.first);
    if (it == b.initializers.end()) return "'" + kv.first + "' is missing";
    const Tensor& x = kv.second;
    const Tensor& y = it->second;
    if (x.dtype() != y.dtype() || x.shape() != y.shape()) return "'" + kv.first + "' changed type or shape";
    if (x.bytes() && std::memcmp(x.raw(), y.raw(), x.bytes()) != 0) return "'" + kv.first + "' changed";
  }
  if (a.nodes.size() != b.nodes.size()) return "node count differs";
  return "";
}

// Synthetic 10-class data shaped like Fashion-MNIST (1x28x28), so the test
// needs no data set on disk: class c has a bright band at row 2c.
Dataset syntheticData(int64_t n) {
  Dataset d;
  d.name = "synthetic";
  d.numClasses = 10;
  d.images = Tensor(DType::Float, {n, 1, 28, 28});
  float* p = d.images.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    int c = static_cast<int>(i % 10);
    d.labels.push_back(c);
    for (int x = 0; x < 28; ++x) p[i * 784 + (2 * c + 3) * 28 + x] = 1.f;
    p[i * 784 + (i * 7) % 784] += 0.5f;
  }
  return d;
}

// Half of fc1's weights masked (every other one), as a prune step leaves them.
MaskSet halfMask(const Graph& g) {
  const Tensor& w = g.initializers.at("fc1.weight");
  Tensor m(DType::Float, w.shape());
  for (int64_t i = 0; i < m.numel(); ++i) m.data<float>()[i] = static_cast<float>(i % 2);
  return {{"fc1.weight", m}};
}

std::string readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// x[1,4] -> Tile(repeats) -> y: a tiny model whose output size the repeats set.
Graph tileGraph(int64_t r0, int64_t r1) {
  Graph g;
  g.name = "tile";
  ValueInfo x;
  x.name = "x";
  x.hasShape = true;
  x.dims = {Dim{1, ""}, Dim{4, ""}};
  g.inputs.push_back(x);
  ValueInfo y;
  y.name = "y";
  g.outputs.push_back(y);
  g.initializers["repeats"] = Tensor::fromVector<int64_t>({2}, {r0, r1});
  Node n;
  n.name = "tile";
  n.opType = "Tile";
  n.inputs = {"x", "repeats"};
  n.outputs = {"y"};
  g.nodes.push_back(n);
  return g;
}

}  // namespace

class TestReliability : public QObject {
  Q_OBJECT
  Dataset data_ = syntheticData(640);

 private slots:
  void cancelFromAnotherThreadRestoresEveryBit() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    const Graph before = g.value();
    MaskSet masks = halfMask(before);  // the masks zero weights: that too must be undone
    TrainOptions o;
    o.threads = 1;
    o.batchSize = 16;
    o.epochs = 3;
    o.optimizer = "adam";
    std::atomic<bool> cancel{false};
    std::atomic<int> batches{0}, batchesAfterCancel{0};
    std::thread canceller([&] {
      while (batches.load() < 5) std::this_thread::yield();
      cancel = true;
    });
    Status st = train(g.value(), data_, o, &masks, {}, [&](const TrainProgress&) {
      if (cancel.load()) ++batchesAfterCancel;
      ++batches;
      return true;
    }, &cancel);
    canceller.join();
    QCOMPARE(st.kind(), ErrorKind::Cancelled);
    // The flag is checked before every batch: at most the batch in flight finishes.
    QVERIFY2(batchesAfterCancel.load() <= 1, std::to_string(batchesAfterCancel.load()).c_str());
    QVERIFY(batches.load() >= 5 && batches.load() < 3 * 40);
    std::string diff = bitDifference(before, g.value());
    QVERIFY2(diff.empty(), diff.c_str());
  }

  void cancelFromProgressRestoresEveryBit() {
    auto g = buildArchitecture("resnet8", ArchOptions{});
    QVERIFY(g.isOk());
    const Graph before = g.value();
    TrainOptions o;
    o.threads = 1;
    o.batchSize = 8;
    o.maxBatchesPerEpoch = 6;
    int calls = 0;
    Status st = train(g.value(), data_, o, nullptr, {}, [&](const TrainProgress&) { return ++calls < 4; });
    QCOMPARE(st.kind(), ErrorKind::Cancelled);
    QCOMPARE(calls, 4);
    std::string diff = bitDifference(before, g.value());  // BatchNorm running statistics included
    QVERIFY2(diff.empty(), diff.c_str());
  }

  void divergedFineTuneRestoresEveryBit() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    const Graph before = g.value();
    MaskSet masks = halfMask(before);
    TrainOptions o;
    o.threads = 1;
    o.batchSize = 16;
    int steps = 0;
    TrainHooks hooks;
    // Three good steps, then a weight blows up: the next loss is not finite.
    hooks.afterStep = [&](Graph& graph, int64_t) {
      if (++steps == 3) graph.initializers.at("fc2.weight").data<float>()[0] = std::numeric_limits<float>::infinity();
    };
    Status st = train(g.value(), data_, o, &masks, hooks);
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QVERIFY2(st.message().find("diverged") != std::string::npos, st.message().c_str());
    QCOMPARE(steps, 3);
    std::string diff = bitDifference(before, g.value());
    QVERIFY2(diff.empty(), diff.c_str());
  }

  void refusedFineTuneChangesNothing() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    const Graph before = g.value();
    // A mask whose shape does not match: refused before any weight is touched.
    MaskSet bad = halfMask(before);
    bad["fc2.weight"] = Tensor(DType::Float, {3});
    Status st = train(g.value(), data_, TrainOptions{}, &bad);
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    std::string diff = bitDifference(before, g.value());
    QVERIFY2(diff.empty(), diff.c_str());
    // Data of the wrong image size: the first forward pass fails.
    Dataset wrong = data_;
    wrong.images = Tensor(DType::Float, {640, 1, 20, 20});
    MaskSet masks = halfMask(before);
    st = train(g.value(), wrong, TrainOptions{}, &masks);
    QVERIFY(!st.isOk());
    diff = bitDifference(before, g.value());
    QVERIFY2(diff.empty(), diff.c_str());
  }

  void cancelledRecipeLeavesTheModelAlone() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    const Graph before = g.value();
    auto recipe = parseRecipe(R"({"default": {"granularity": "element", "sparsity": 0.5},
                                  "finetune": {"epochs": 2, "lr": 0.01, "batch": 16}})");
    QVERIFY2(recipe.isOk(), recipe.status().message().c_str());
    PruneRunOptions o;
    o.trainData = &data_;
    o.threads = 1;
    int reports = 0;
    o.progress = [&](const PruneProgress& p) { return !(p.training && ++reports >= 3); };
    auto run = runRecipe(g.value(), recipe.value(), o);
    QVERIFY(!run.isOk());
    QCOMPARE(run.status().kind(), ErrorKind::Cancelled);
    QVERIFY(reports >= 3);
    std::string diff = bitDifference(before, g.value());
    QVERIFY2(diff.empty(), diff.c_str());
  }

  void atomicWriteReplacesWholeAndLeavesNoTempFile() {
    std::string dir = testutil::tempDir() + "/atomic";
    fs::create_directories(dir);
    std::string path = dir + "/out.bin";
    QVERIFY(writeFileAtomic(path, "old contents").isOk());
    std::string big(3 << 20, 'x');
    for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
    QVERIFY(writeFileAtomic(path, big).isOk());
    QCOMPARE(readBytes(path), big);
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename() == "out.bin" ? 1 : 100;
    QCOMPARE(files, 1);
    // A refused write (no such folder) leaves nothing either.
    Status st = writeFileAtomic(dir + "/missing/out.bin", "x");
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QVERIFY2(st.message().find("missing") != std::string::npos, st.message().c_str());
    // Protecting the source through another spelling of its path.
    st = writeFileAtomic(dir + "/../atomic/out.bin", "y", path);
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QCOMPARE(readBytes(path), big);
    // A folder or an empty path is the user's mistake, said so (it was an
    // internal error naming the temp file's rename), and leaves nothing.
    fs::create_directories(dir + "/sub");
    for (const std::string& bad : {dir + "/sub", dir + "/sub/", std::string()}) {
      st = writeFileAtomic(bad, "z");
      QCOMPARE(st.kind(), ErrorKind::BadInput);
      QVERIFY2(st.message().find(bad.empty() ? "empty" : "folder") != std::string::npos, st.message().c_str());
    }
    QVERIFY(fs::is_empty(dir + "/sub"));
    files = 0;
    for (const auto& e : fs::directory_iterator(dir))
      files += e.path().filename() == "out.bin" || e.path().filename() == "sub" ? 1 : 100;
    QCOMPARE(files, 2);
  }
  // An operator whose output would exceed the executor's tensor limit is
  // refused with the size it needs and the node's name, before allocating;
  // the per-thread limit is restored after the run.
  // Data with a class the model cannot output (12 class folders for 10
  // outputs) is refused naming the sample, its label and the model's
  // classes; it was evaluated with those samples counted wrong. Unlabelled
  // samples (-1, agreement mode) stay fine.
  void labelsBeyondTheModelsClassesAreRefused() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    Dataset d = syntheticData(40);
    d.labels[17] = 11;
    auto r = evaluate(g.value(), d, 16, 1);
    QVERIFY(!r.isOk());
    QCOMPARE(r.status().kind(), ErrorKind::BadInput);
    QVERIFY2(r.status().message().find("sample 17") != std::string::npos &&
                 r.status().message().find("label 11") != std::string::npos &&
                 r.status().message().find("10 classes") != std::string::npos,
             r.status().message().c_str());
    d.labels[17] = -1;
    r = evaluate(g.value(), d, 16, 1);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QCOMPARE(r->samples, int64_t(40));
  }

  void hugeIntermediateTensorIsRefusedWithItsSize() {
    Tensor in(Shape{1, 4});
    Graph small = tileGraph(1000, 2);  // 8,000 floats: 32 KB
    QVERIFY(small.validate().isOk());
    ExecutorOptions tight;
    tight.maxTensorBytes = 16 << 10;
    auto refused = Executor::create(small, tight);
    QVERIFY(refused.isOk());
    Status st = (*refused)->run(in);
    QVERIFY(!st.isOk());
    const QString msg = QString::fromStdString(st.message());
    QVERIFY2(msg.contains("32.0 KB") && msg.contains("16.4 KB") && msg.contains("'tile'") &&
                 msg.contains("too much memory"),
             qPrintable(msg));
    QCOMPARE(TensorByteLimit::current(), ~uint64_t(0));
    tight.maxTensorBytes = 64 << 10;
    auto ok = Executor::create(small, tight);
    QVERIFY(ok.isOk());
    QVERIFY((*ok)->run(in).isOk());
    QCOMPARE((*ok)->output(0).shape(), (Shape{1000, 8}));
  }

  // Every tensor a run makes is kept, so many outputs each under
  // maxTensorBytes can still add up to more than the machine has (a fuzzer's
  // chain of 16 MB tensors reached 3.3 GB): maxRunBytes caps their sum, at
  // the node that passes it; a cap above the sum runs the same graph.
  void manyIntermediatesAreRefusedWithTheirTotal() {
    Graph g = tileGraph(1000, 2);  // y0: 8,000 floats, 32 KB
    g.outputs[0].name = "y20";
    g.nodes[0].outputs = {"y0"};
    for (int i = 1; i <= 20; ++i) {
      Node neg;
      neg.name = "neg" + std::to_string(i);
      neg.opType = "Neg";
      neg.inputs = {"y" + std::to_string(i - 1)};
      neg.outputs = {"y" + std::to_string(i)};
      g.nodes.push_back(neg);
    }
    QVERIFY(g.validate().isOk());
    Tensor in = Tensor::fromVector<float>({1, 4}, {1.f, -2.f, 3.f, -4.f});
    ExecutorOptions tight;
    tight.threads = 1;
    tight.maxTensorBytes = 64 << 10;
    tight.maxRunBytes = 200000;  // the 7th tensor passes it: 7 x 32,000 bytes
    auto refused = Executor::create(g, tight);
    QVERIFY(refused.isOk());
    Status st = (*refused)->run(in);
    QVERIFY(!st.isOk());
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    const QString msg = QString::fromStdString(st.message());
    QVERIFY2(
        msg.contains("'neg6'") && msg.contains("224.0 KB") && msg.contains("200.0 KB") && msg.contains("maxRunBytes"),
        qPrintable(msg));
    // Shape inference takes the same cap.
    Graph copy = g;
    st = inferShapes(copy, 1, tight);
    QVERIFY(!st.isOk());
    QVERIFY2(QString::fromStdString(st.message()).contains("'neg6'"), st.message().c_str());

    tight.maxRunBytes = 21 * 32000;  // exactly the sum: allowed
    auto ok = Executor::create(g, tight);
    QVERIFY(ok.isOk());
    st = (*ok)->run(in);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE((*ok)->output(0).shape(), (Shape{1000, 8}));
    QCOMPARE((*ok)->output(0).data<float>()[1], -2.f);  // x[1] after twenty negations
    // The default is the machine's memory, far above this graph's 672 KB.
    auto plain = Executor::create(g, ExecutorOptions{});
    QVERIFY(plain.isOk());
    QVERIFY((*plain)->run(in).isOk());
  }

  // Shape inference runs the model too, so it takes the caller's cap: a
  // tight one refuses the model with the size (it ran with the default 4 GiB
  // whatever the caller had set), the zero inputs included, and records
  // nothing; within the cap the shapes are recorded as before.
  void inferShapesHonoursTheCallersTensorCap() {
    Graph g = tileGraph(1000, 2);  // y: 8,000 floats, 32 KB
    g.outputs[0].name = "z";
    Node relu;
    relu.name = "relu";
    relu.opType = "Relu";
    relu.inputs = {"y"};
    relu.outputs = {"z"};
    g.nodes.push_back(relu);
    QVERIFY(g.validate().isOk());
    ExecutorOptions tight;
    tight.threads = 1;
    tight.maxTensorBytes = 16 << 10;
    Status st = inferShapes(g, 1, tight);
    QVERIFY(!st.isOk());
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QString msg = QString::fromStdString(st.message());
    QVERIFY2(msg.contains("32.0 KB") && msg.contains("16.4 KB") && msg.contains("'tile'") &&
                 msg.contains("too much memory"),
             qPrintable(msg));
    QVERIFY(g.valueInfo.count("y") == 0);
    QCOMPARE(TensorByteLimit::current(), ~uint64_t(0));

    tight.maxTensorBytes = 8;  // under the [1,4] float input itself
    st = inferShapes(g, 1, tight);
    QVERIFY(!st.isOk());
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    msg = QString::fromStdString(st.message());
    QVERIFY2(msg.contains("input 'x'") && msg.contains("16 bytes") && msg.contains("limit of 8"), qPrintable(msg));

    tight.maxTensorBytes = 64 << 10;
    st = inferShapes(g, 1, tight);
    QVERIFY2(st.isOk(), st.message().c_str());
    QVERIFY(g.valueInfo.count("y") == 1);
    QCOMPARE(g.valueInfo["y"].dims.size(), size_t(2));
    QCOMPARE(g.valueInfo["y"].dims[0].value, int64_t(1000));
    QCOMPARE(g.valueInfo["y"].dims[1].value, int64_t(8));
    // The two-argument form keeps the default cap.
    g.valueInfo.clear();
    QVERIFY(inferShapes(g, 1).isOk());
    QVERIFY(g.valueInfo.count("y") == 1);
  }
};

QTEST_GUILESS_MAIN(TestReliability)
#include "test_reliability.moc"
