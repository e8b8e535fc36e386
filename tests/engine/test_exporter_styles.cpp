// Models built the way other exporters write them, not the way PyTorch's
// does (the demo models): a Keras CNN as tf2onnx writes it (NHWC input
// behind a Transpose, SAME padding, Clip with min/max inputs for ReLU6, a
// Keras Flatten that flattens in NHWC order through Transpose + Reshape,
// MatMul + Add instead of Gemm, global pooling as ReduceMean/ReduceMax over
// the spatial axes), and a Paddle-style mobile block (Conv without bias +
// BatchNormalization, HardSwish, depthwise Conv, GlobalAveragePool +
// Squeeze, MatMul + Add). For each:
//  - our executor, plain and optimised for inference, gives ONNX Runtime's
//    outputs at batch 1 and 3;
//  - filter pruning (50%), unstructured (90%) and 2:4 recipes run, the filter
//    one leaves a smaller model, and ONNX Runtime runs every pruned export
//    with our outputs.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>

#include "common/ort_util.h"
#include "common/test_util.h"
#include "topiary/dataset.h"
#include "topiary/executor.h"
#include "topiary/kernel.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"
#include "topiary/train.h"

using namespace topiary;

namespace {

constexpr double kTol = 1e-4;

struct Builder {
  Graph g;
  std::mt19937 rng{7};

  std::string weight(const std::string& name, Shape shape, float scale) {
    Tensor t(DType::Float, shape);
    std::normal_distribution<float> d(0.f, scale);
    for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = d(rng);
    g.initializers[name] = t;
    return name;
  }
  std::string positive(const std::string& name, int64_t n) {  // BatchNorm variances and scales
    Tensor t(DType::Float, {n});
    std::uniform_real_distribution<float> d(0.5f, 1.5f);
    for (int64_t i = 0; i < n; ++i) t.at(i) = d(rng);
    g.initializers[name] = t;
    return name;
  }
  std::string ints(const std::string& name, std::vector<int64_t> v) {
    g.initializers[name] = Tensor::fromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
    return name;
  }
  std::string scalar(const std::string& name, float v) {
    g.initializers[name] = Tensor::scalar(v);
    return name;
  }
  std::string node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                   std::map<std::string, Attribute> attrs = {}) {
    Node n;
    n.opType = op;
    n.name = name;
    n.inputs = std::move(inputs);
    n.outputs = {name + ":0"};  // tf2onnx names tensors after their op
    n.attrs = std::move(attrs);
    g.nodes.push_back(n);
    return n.outputs[0];
  }
  void input(const std::string& name, std::vector<int64_t> rest) {
    ValueInfo v;
    v.name = name;
    v.hasShape = true;
    Dim batch;
    batch.param = "unk__0";
    v.dims.push_back(batch);
    for (int64_t d : rest) v.dims.push_back(Dim{d, ""});
    g.inputs.push_back(v);
  }
  void output(const std::string& tensor) {
    ValueInfo v;
    v.name = tensor;
    g.outputs.push_back(v);
  }
};

// pool: "flatten" (Keras Flatten on NHWC), "mean" or "max" (global pooling
// as a reduction over H and W).
Graph kerasCnn(const std::string& pool) {
  Builder b;
  b.g.opsetImports = {{"", 13}};
  b.g.producerName = "tf2onnx";
  b.input("input_1", {28, 28, 1});
  std::string x =
      b.node("Transpose", "model/conv2d/Conv2D__6", {"input_1"}, {{"perm", Attribute::ofInts({0, 3, 1, 2})}});
  const std::map<std::string, Attribute> same{{"auto_pad", Attribute::ofString("SAME_UPPER")},
                                              {"kernel_shape", Attribute::ofInts({3, 3})}};
  x = b.node("Conv", "model/conv2d/BiasAdd",
             {x, b.weight("model/conv2d/Conv2D/ReadVariableOp:0", {8, 1, 3, 3}, 0.4f),
              b.weight("model/conv2d/BiasAdd/ReadVariableOp:0", {8}, 0.1f)},
             same);
  x = b.node("Relu", "model/conv2d/Relu", {x});
  x = b.node("MaxPool", "model/max_pooling2d/MaxPool", {x},
             {{"kernel_shape", Attribute::ofInts({2, 2})}, {"strides", Attribute::ofInts({2, 2})}});
  auto strided = same;
  strided["strides"] = Attribute::ofInts({2, 2});
  x = b.node("Conv", "model/conv2d_1/BiasAdd",
             {x, b.weight("model/conv2d_1/Conv2D/ReadVariableOp:0", {16, 8, 3, 3}, 0.2f),
              b.weight("model/conv2d_1/BiasAdd/ReadVariableOp:0", {16}, 0.1f)},
             strided);
  x = b.node("Clip", "model/conv2d_1/Relu6", {x, b.scalar("zero:0", 0.f), b.scalar("six:0", 6.f)});
  int64_t features = 16;
  if (pool == "flatten") {
    x = b.node("Transpose", "model/conv2d_1/Relu6__12", {x}, {{"perm", Attribute::ofInts({0, 2, 3, 1})}});
    x = b.node("Reshape", "model/flatten/Reshape", {x, b.ints("const_fold_opt__20", {-1, 7 * 7 * 16})});
    features = 7 * 7 * 16;
  } else {
    x = b.node(pool == "mean" ? "ReduceMean" : "ReduceMax", "model/global_pooling/" + pool, {x},
               {{"axes", Attribute::ofInts({2, 3})}, {"keepdims", Attribute::ofInt(0)}});
  }
  x = b.node("MatMul", "model/dense/MatMul",
             {x, b.weight("model/dense/MatMul/ReadVariableOp:0", {features, 32}, 0.1f)});
  x = b.node("Add", "model/dense/BiasAdd", {x, b.weight("model/dense/BiasAdd/ReadVariableOp:0", {32}, 0.1f)});
  x = b.node("Relu", "model/dense/Relu", {x});
  x = b.node("MatMul", "model/dense_1/MatMul", {x, b.weight("model/dense_1/MatMul/ReadVariableOp:0", {32, 10}, 0.3f)});
  x = b.node("Add", "model/dense_1/BiasAdd", {x, b.weight("model/dense_1/BiasAdd/ReadVariableOp:0", {10}, 0.1f)});
  x = b.node("Softmax", "model/dense_1/Softmax", {x}, {{"axis", Attribute::ofInt(-1)}});
  b.output(x);
  return b.g;
}

Graph paddleMobile() {
  Builder b;
  b.g.opsetImports = {{"", 14}};
  b.g.producerName = "PaddlePaddle";
  b.input("x", {1, 28, 28});
  auto convBn = [&](const std::string& name, const std::string& in, int64_t cin, int64_t cout, int64_t k,
                    int64_t stride, int64_t group) {
    std::string y = b.node("Conv", name, {in, b.weight(name + ".w_0", {cout, cin / group, k, k}, 0.3f)},
                           {{"kernel_shape", Attribute::ofInts({k, k})},
                            {"strides", Attribute::ofInts({stride, stride})},
                            {"pads", Attribute::ofInts({k / 2, k / 2, k / 2, k / 2})},
                            {"group", Attribute::ofInt(group)},
                            {"dilations", Attribute::ofInts({1, 1})}});
    return b.node("BatchNormalization", name + "_bn",
                  {y, b.positive(name + "_bn.w_0", cout), b.weight(name + "_bn.b_0", {cout}, 0.1f),
                   b.weight(name + "_bn.w_1", {cout}, 0.1f), b.positive(name + "_bn.w_2", cout)},
                  {{"epsilon", Attribute::ofFloat(1e-5f)}, {"momentum", Attribute::ofFloat(0.9f)}});
  };
  std::string x = convBn("conv2d_0", "x", 1, 16, 3, 2, 1);
  x = b.node("HardSwish", "hardswish_0", {x});
  x = convBn("conv2d_1", x, 16, 16, 3, 1, 16);  // depthwise
  x = b.node("Relu", "relu_1", {x});
  x = convBn("conv2d_2", x, 16, 24, 1, 1, 1);
  x = b.node("HardSwish", "hardswish_2", {x});
  x = b.node("GlobalAveragePool", "pool2d_0", {x});
  x = b.node("Squeeze", "squeeze_0", {x, b.ints("squeeze_axes", {2, 3})});
  x = b.node("MatMul", "linear_0", {x, b.weight("linear_0.w_0", {24, 10}, 0.3f)});
  x = b.node("Add", "linear_0_add", {x, b.weight("linear_0.b_0", {10}, 0.1f)});
  x = b.node("Softmax", "softmax_0", {x}, {{"axis", Attribute::ofInt(-1)}});
  b.output(x);
  return b.g;
}

Tensor randomInput(const Graph& g, int64_t batch, std::mt19937& rng) {
  Tensor x = makeInputLike(g.inputs[0], batch).value();
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = u(rng);
  return x;
}

// How these tests run our executor: two threads, optionally with the
// inference rewrites (and so the batch split).
ExecutorOptions runOptions(bool optimized) {
  ExecutorOptions o;
  o.threads = 2;
  o.optimizeForInference = optimized;
  return o;
}

}  // namespace

class TestExporterStyles : public QObject {
  Q_OBJECT

 private slots:
  void matchesOnnxRuntimeBeforeAndAfterPruning() {
    std::string why = testutil::ortUnavailableReason();
    if (!why.empty()) QSKIP(("ONNX Runtime is not available: " + why).c_str());
    struct Model {
      std::string name;
      Graph graph;
    };
    std::vector<Model> models{
        {"keras-flatten", kerasCnn("flatten")}, {"keras-mean", kerasCnn("mean")}, {"paddle-mobile", paddleMobile()}};
    if (OpRegistry::instance().find("ReduceMax", 13)) models.push_back({"keras-max", kerasCnn("max")});
    const std::pair<const char*, const char*> recipes[] = {
        {"as exported", ""},
        {"filter50", R"({"default": {"granularity": "filter", "sparsity": 0.5}})"},
        {"element90", R"({"default": {"granularity": "element", "sparsity": 0.9}})"},
        {"nm24", R"({"default": {"granularity": "nm", "n": 2, "m": 4}})"}};
    std::mt19937 rng(5);
    std::vector<testutil::OrtJob> jobs;
    struct Expect {
      std::string label;
      std::vector<Tensor> ours;
    };
    std::vector<Expect> expects;
    for (auto& m : models) {
      QVERIFY2(m.graph.validate().isOk(), m.name.c_str());
      for (const auto& [variant, json] : recipes) {
        Graph g = m.graph;
        const std::string tag = m.name + "/" + variant;
        if (*json) {
          auto r = parseRecipe(json);
          QVERIFY2(r.isOk(), r.status().message().c_str());
          auto res = runRecipe(m.graph, r.value());
          QVERIFY2(res.isOk(), (tag + ": " + res.status().message()).c_str());
          g = res->removed;
          if (std::string(variant) == "filter50") {
            // Physically smaller: every one of these models has a prunable conv.
            QVERIFY2(res->structural, tag.c_str());
            std::printf("%s: %lld -> %lld params; layers:", tag.c_str(), static_cast<long long>(m.graph.paramCount()),
                        static_cast<long long>(g.paramCount()));
            for (const auto& n : g.nodes)
              if ((n.opType == "Conv" || n.opType == "MatMul") && g.isInitializer(n.input(1)))
                std::printf(" %s %s", n.name.c_str(), shapeToString(g.initializers.at(n.input(1)).shape()).c_str());
            std::printf("\n");
            QVERIFY2(
                g.paramCount() < m.graph.paramCount(),
                qPrintable(
                    QString("%1: %2 -> %3 params").arg(tag.c_str()).arg(m.graph.paramCount()).arg(g.paramCount())));
          } else {
            // The largest weight (a conv or dense layer's) is at most 10% / 50% nonzero. (Not
            // every layer can be 2:4: a single-input-channel stem or a depthwise conv.)
            const Tensor* largest = nullptr;
            for (const auto& kv : g.initializers)
              if (kv.second.dtype() == DType::Float && (!largest || kv.second.numel() > largest->numel()))
                largest = &kv.second;
            QVERIFY(largest);
            int64_t nonzero = 0;
            for (int64_t i = 0; i < largest->numel(); ++i) nonzero += largest->at(i) != 0.f;
            const double limit = std::string(variant) == "nm24" ? 0.5 : 0.1;
            QVERIFY2(nonzero <= limit * static_cast<double>(largest->numel()) + 1,
                     qPrintable(QString("%1: %2 of %3 nonzero").arg(tag.c_str()).arg(nonzero).arg(largest->numel())));
          }
        }
        const std::string file = testutil::tempDir() + "/" + m.name + "_" + variant + ".onnx";
        Status st = saveModel(g, file);
        QVERIFY2(st.isOk(), (tag + ": " + st.message()).c_str());
        auto reloaded = loadModel(file);  // what the user's file gives, as ORT reads it
        QVERIFY2(reloaded.isOk(), (tag + ": " + reloaded.status().message()).c_str());
        for (int64_t batch : {1, 3}) {
          Tensor x = randomInput(reloaded.value(), batch, rng);
          jobs.push_back({file, {{reloaded->inputs[0].name, x}}});
          for (bool optimized : {false, true}) {
            std::string err;
            auto out = testutil::runOurs(reloaded.value(), x, runOptions(optimized), &err);
            QVERIFY2(!out.empty(), (tag + ": " + err).c_str());
            QCOMPARE(out[0].shape(), (Shape{batch, 10}));
            // Softmax rows sum to 1: the graph ran to its end.
            for (int64_t i = 0; i < batch; ++i) {
              double sum = 0;
              for (int64_t j = 0; j < 10; ++j) sum += out[0].at(i * 10 + j);
              QVERIFY2(std::fabs(sum - 1.0) < 1e-4, tag.c_str());
            }
            expects.push_back({tag + " batch " + std::to_string(batch) + (optimized ? " optimised" : " plain"), out});
          }
        }
      }
    }
    // Every one of these graphs treats the samples one by one, so a batch on
    // two threads is split between them (the split run keeps only the
    // outputs and what their producers read: an early activation is gone).
    for (auto& m : models) {
      ExecutorOptions o;
      o.threads = 2;
      o.optimizeForInference = true;
      auto ex = Executor::create(m.graph, o);
      QVERIFY(ex.isOk());
      Tensor x = randomInput(m.graph, 64, rng);
      QVERIFY((*ex)->run(x).isOk());
      const std::string first = (*ex)->runNode(0).outputs[0];
      QVERIFY2((*ex)->value(first) == nullptr, (m.name + ": the batch of 64 was not split").c_str());
      std::string err;
      auto whole = testutil::runOurs(m.graph, x, runOptions(false), &err);
      QVERIFY2(!whole.empty(), err.c_str());
      QVERIFY2(testutil::maxAbsDiff((*ex)->output(0), whole[0]) < 1e-5, m.name.c_str());
    }
    auto reports = testutil::runOrtJobs(jobs);
    QCOMPARE(reports.size(), jobs.size());
    for (size_t e = 0; e < expects.size(); ++e) {
      const auto& ref = reports[e / 2];  // plain and optimised runs share one ORT job
      QVERIFY2(ref.error.empty(), (expects[e].label + ": ORT: " + ref.error).c_str());
      QCOMPARE(ref.outputs.size(), expects[e].ours.size());
      double abs = 0;
      const double s = testutil::scaledDiff(expects[e].ours[0], ref.outputs[0].tensor, &abs);
      QVERIFY2(s <= kTol, qPrintable(QString("%1: max |ours-ORT| %2").arg(expects[e].label.c_str()).arg(abs)));
    }
    std::printf("%zu exporter-style runs matched ONNX Runtime on %zu jobs\n", expects.size(), jobs.size());
  }

  // An axis counted from the end can be the batch axis: such a node keeps the
  // batch whole (a split run would reduce each chunk on its own).
  void batchAxisFromTheEndIsNotSplit() {
    for (const char* op : {"ArgMax", "LayerNormalization"}) {
      Builder b;
      b.g.opsetImports = {{"", 17}};
      b.input("x", {10});
      std::string y = b.node("MatMul", "mm", {"x", b.weight("w", {10, 10}, 0.5f)});
      if (std::string(op) == "ArgMax")
        y = b.node("ArgMax", "arg", {y}, {{"axis", Attribute::ofInt(-2)}, {"keepdims", Attribute::ofInt(1)}});
      else
        y = b.node("LayerNormalization", "ln", {y, b.positive("scale", 64 * 10)}, {{"axis", Attribute::ofInt(-2)}});
      b.output(y);
      if (std::string(op) == "LayerNormalization") {  // scale over [N, 10] needs a fixed N: use 64
        b.g.initializers["scale"].reshapeInPlace({64, 10});
      }
      std::mt19937 rng(2);
      Tensor x = makeInputLike(b.g.inputs[0], 64).value();
      std::uniform_real_distribution<float> u(-1.f, 1.f);
      for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = u(rng);
      std::string err;
      auto split = testutil::runOurs(b.g, x, runOptions(true), &err);  // 2 threads, optimised: split if allowed
      QVERIFY2(!split.empty(), err.c_str());
      auto whole = testutil::runOurs(b.g, x, runOptions(false), &err);
      QVERIFY2(!whole.empty(), err.c_str());
      QCOMPARE(split[0].shape(), whole[0].shape());
      QCOMPARE(split[0].bytes(), whole[0].bytes());
      QVERIFY2(std::memcmp(split[0].raw(), whole[0].raw(), whole[0].bytes()) == 0 ||
                   testutil::maxAbsDiff(split[0], whole[0]) < 1e-5,
               op);
    }
  }

  // The data sets' images are [N, 1, H, W]; a channels-last [N, H, W, 1], an
  // [N, H, W] or a flat [N, H*W] input reads the same bytes.
  void imagesFitChannelsLastAndFlatInputs() {
    auto input = [](std::vector<int64_t> dims) {
      ValueInfo v;
      v.hasShape = true;
      v.dims.push_back(Dim{-1, "N"});
      for (int64_t d : dims) v.dims.push_back(Dim{d, ""});
      return v;
    };
    const Shape img{5, 1, 28, 28};
    QCOMPARE(fittedImageShape(img, input({28, 28, 1})), Shape({5, 28, 28, 1}));
    QCOMPARE(fittedImageShape(img, input({28, 28})), Shape({5, 28, 28}));
    QCOMPARE(fittedImageShape(img, input({784})), Shape({5, 784}));
    QCOMPARE(fittedImageShape(img, input({1, 28, 28})), img);
    QCOMPARE(fittedImageShape(img, input({28, 28, 3})), img);  // another model: the executor names both shapes
    QCOMPARE(fittedImageShape(img, input({27, 28, 1})), img);
    QCOMPARE(fittedImageShape(img, input({-1, 28, 1})), img);  // an unknown dimension: no guess
    QCOMPARE(fittedImageShape({5, 3, 28, 28}, input({28, 28, 3})), Shape({5, 3, 28, 28}));  // would need a transpose

    // Evaluating and fine-tuning the Keras model on [N, 1, 28, 28] images.
    Graph g = kerasCnn("flatten");
    Dataset data;
    data.name = "synthetic";
    data.numClasses = 10;
    data.images = Tensor(DType::Float, {40, 1, 28, 28});
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (int64_t i = 0; i < data.images.numel(); ++i) data.images.at(i) = u(rng);
    for (int i = 0; i < 40; ++i) data.labels.push_back(i % 10);
    auto ev = evaluate(g, data, 16, 2);
    QVERIFY2(ev.isOk(), ev.status().message().c_str());
    QCOMPARE(ev->samples, int64_t(40));
    // The same predictions as the executor given the images reshaped by hand.
    Tensor nhwc = data.images;
    nhwc.reshapeInPlace({40, 28, 28, 1});
    std::string err;
    auto out = testutil::runOurs(g, nhwc, runOptions(false), &err);
    QVERIFY2(!out.empty(), err.c_str());
    for (int64_t i = 0; i < 40; ++i) {
      const float* row = out[0].f() + i * 10;
      QCOMPARE(ev->predictions[static_cast<size_t>(i)], static_cast<int>(std::max_element(row, row + 10) - row));
    }
    TrainOptions t;
    t.epochs = 1;
    t.batchSize = 8;
    t.threads = 1;
    Graph trained = g;
    Status st = train(trained, data, t);
    QVERIFY2(st.isOk(), st.message().c_str());
    const std::string w = "model/dense/MatMul/ReadVariableOp:0";
    QVERIFY(testutil::maxAbsDiff(trained.initializers.at(w), g.initializers.at(w)) > 1e-6);  // it learned
  }
};

QTEST_GUILESS_MAIN(TestExporterStyles)
#include "test_exporter_styles.moc"
