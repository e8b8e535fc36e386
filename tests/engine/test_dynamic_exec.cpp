// Dynamic (run-time) channel skipping executed by the Conv kernels
// (ExecutorOptions::dynamicSkipThreshold): threshold 0 gives the dense
// result, a positive threshold the dense result on an input whose skipped
// channels were zeroed, and the FLOPs skipped per image are the ones
// analyzeDynamicSkipping predicts.
#include <QtTest>

#include <cmath>
#include <random>

#include "common/test_util.h"
#include "topiary/dataset.h"
#include "topiary/dynamic.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"

using namespace topiary;

namespace {

struct ConvCase {
  const char* name;
  int64_t cin, cout, k, stride, pad, group;
  bool bias;
  const char* after;  // "", "relu" or "residual" (Add of the conv's own input)
};

// x -> Relu -> a -> Conv -> [Relu | Add(., a)] -> y: the Conv reads an
// activation (the graph input itself is never skipped).
Graph convGraph(const ConvCase& c, std::mt19937& rng) {
  Graph g;
  ValueInfo in;
  in.name = "x";
  in.hasShape = true;
  in.dims = {Dim{-1, "N"}, Dim{c.cin, ""}, Dim{8, ""}, Dim{8, ""}};
  g.inputs = {in};
  Node relu;
  relu.name = "relu0";
  relu.opType = "Relu";
  relu.inputs = {"x"};
  relu.outputs = {"a"};
  g.nodes.push_back(relu);
  Tensor w(DType::Float, {c.cout, c.cin / c.group, c.k, c.k});
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < w.numel(); ++i) w.f()[i] = u(rng);
  g.initializers["w"] = w;
  Node conv;
  conv.name = "conv";
  conv.opType = "Conv";
  conv.inputs = {"a", "w"};
  if (c.bias) {
    Tensor b(DType::Float, {c.cout});
    for (int64_t i = 0; i < b.numel(); ++i) b.f()[i] = u(rng);
    g.initializers["b"] = b;
    conv.inputs.push_back("b");
  }
  conv.outputs = {std::string(c.after).empty() ? "y" : "c"};
  conv.attrs["kernel_shape"] = Attribute::ofInts({c.k, c.k});
  conv.attrs["strides"] = Attribute::ofInts({c.stride, c.stride});
  conv.attrs["pads"] = Attribute::ofInts({c.pad, c.pad, c.pad, c.pad});
  conv.attrs["group"] = Attribute::ofInt(c.group);
  g.nodes.push_back(conv);
  if (std::string(c.after) == "relu" || std::string(c.after) == "residual") {
    Node n;
    n.name = "after";
    n.opType = std::string(c.after) == "relu" ? "Relu" : "Add";
    n.inputs = std::string(c.after) == "relu" ? std::vector<std::string>{"c"} : std::vector<std::string>{"c", "a"};
    n.outputs = {"y"};
    g.nodes.push_back(n);
  }
  ValueInfo out;
  out.name = "y";
  g.outputs = {out};
  return g;
}

// Random input where, per image, about a third of the channels are negative
// (zero after the Relu) and some others small (max <= 0.2 after it).
Tensor patternedInput(int64_t N, int64_t C, std::mt19937& rng) {
  Tensor x(DType::Float, {N, C, 8, 8});
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t kind = (n + c) % 3;
      float* p = x.f() + (n * C + c) * 64;
      for (int64_t j = 0; j < 64; ++j)
        p[j] = kind == 0 ? -0.01f - std::fabs(u(rng)) : kind == 1 && c % 2 == 0 ? 0.2f * u(rng) : u(rng);
    }
  return x;
}

// The input whose channels with max relu(x) <= t are made negative (zero after the Relu).
Tensor zeroSilent(const Tensor& x, float t) {
  Tensor z = x;
  const int64_t N = x.dim(0), C = x.dim(1), inner = x.numel() / (N * C);
  for (int64_t i = 0; i < N * C; ++i) {
    float mx = 0;
    for (int64_t j = 0; j < inner; ++j) mx = std::max(mx, x.f()[i * inner + j]);
    if (mx <= t)
      for (int64_t j = 0; j < inner; ++j) z.f()[i * inner + j] = -1.f;
  }
  return z;
}

double relDiff(const Tensor& a, const Tensor& b) {
  double scale = 1;
  for (int64_t i = 0; i < b.numel(); ++i) scale = std::max(scale, static_cast<double>(std::fabs(b.f()[i])));
  return testutil::maxAbsDiff(a, b) / scale;
}

std::unique_ptr<Executor> executor(const Graph& g, float threshold, int threads = 1) {
  ExecutorOptions o;
  o.threads = threads;
  o.optimizeForInference = true;
  o.dynamicSkipThreshold = threshold;
  auto ex = Executor::create(g, o);
  if (!ex) qFatal("%s", ex.status().message().c_str());
  return std::move(ex.value());
}

}  // namespace

class TestDynamicExec : public QObject {
  Q_OBJECT

 private slots:
  void skippingConvMatchesDenseAndZeroedReference() {
    const ConvCase cases[] = {
        {"3x3 bias relu", 8, 12, 3, 1, 1, 1, true, "relu"},
        {"3x3 residual", 8, 8, 3, 1, 1, 1, true, "residual"},
        {"1x1 no bias", 8, 16, 1, 1, 0, 1, false, ""},
        {"3x3 stride 2", 8, 8, 3, 2, 1, 1, true, ""},
        {"depthwise relu", 8, 8, 3, 1, 1, 8, true, "relu"},
        {"depthwise x2 stride 2", 8, 16, 3, 2, 1, 8, false, ""},
        {"depthwise residual", 8, 8, 3, 1, 1, 8, true, "residual"},
    };
    std::mt19937 rng(7);
    for (const char* path : {"compact", "dense", ""})  // forced, then the timed choice (either per image)
    for (const ConvCase& c : cases)
      for (int64_t N : {3, 10}) {  // 10 images: a split run in chunks
        const std::string what = std::string(c.name) + ", batch " + std::to_string(N) + ", " + path;
        Graph g = convGraph(c, rng);
        if (*path) g.nodes[1].attrs["topiary.dynamic_path"] = Attribute::ofString(path);
        Tensor x = patternedInput(N, c.cin, rng);
        auto dense = executor(g, -1), skip0 = executor(g, 0), skip3 = executor(g, 0.3f);
        QVERIFY2(dense->run(x).isOk() && skip0->run(x).isOk() && skip3->run(x).isOk(), what.c_str());
        QVERIFY2(dense->dynamicSkippedFlops().empty(), what.c_str());
        QVERIFY2(relDiff(skip0->output(0), dense->output(0)) <= 1e-5, what.c_str());
        // Threshold 0.3: the dense Conv on the input with those channels zeroed.
        Tensor zeroed = zeroSilent(x, 0.3f);
        QVERIFY2(dense->run(zeroed).isOk(), what.c_str());
        Tensor ref = dense->output(0);
        if (std::string(c.after) == "residual")  // the residual branch still carries the unzeroed channels
          for (int64_t i = 0; i < ref.numel(); ++i)
            ref.f()[i] += std::max(0.f, x.f()[i]) - std::max(0.f, zeroed.f()[i]);
        QVERIFY2(relDiff(skip3->output(0), ref) <= 1e-5, what.c_str());
        QVERIFY2(testutil::maxAbsDiff(skip3->output(0), skip0->output(0)) > 1e-3, what.c_str());  // it did differ
        // Two threads (images or chunks split over them): the same result.
        auto skip3t2 = executor(g, 0.3f, 2);
        QVERIFY2(skip3t2->run(x).isOk(), what.c_str());
        QVERIFY2(relDiff(skip3t2->output(0), skip3->output(0)) <= 1e-5, what.c_str());
        if (std::string(path) == "compact")
          QCOMPARE(skip3t2->dynamicSkippedFlops(), skip3->dynamicSkippedFlops());
        if (std::string(path) == "dense")  // the ordinary kernel on zeroed copies: nothing skipped
          QCOMPARE(skip3->dynamicSkippedFlops(), std::vector<double>(static_cast<size_t>(N), 0.0));
        // The FLOPs over silent channels per image are what the analysis
        // predicts, on every path; the compacted path skips exactly those.
        for (float t : {0.f, 0.3f})
          for (bool silent : {true, false}) {
            if (!silent && std::string(path) != "compact") continue;
            DynamicOptions o;
            o.threshold = t;
            auto r = analyzeDynamicSkipping(g, x, o);
            QVERIFY2(r.isOk(), r.status().message().c_str());
            const std::vector<double> saved = (t == 0 ? skip0 : skip3)->dynamicSkippedFlops(silent);
            QCOMPARE(saved.size(), static_cast<size_t>(N));
            for (int64_t n = 0; n < N; ++n) {
              const double want = r->inputs[static_cast<size_t>(n)].savedFlops;
              QVERIFY2(want > 0, what.c_str());
              QVERIFY2(std::fabs(saved[static_cast<size_t>(n)] - want) <= 1e-9 * want,
                       (what + ": image " + std::to_string(n) + " skipped " + std::to_string(saved[size_t(n)]) +
                        " FLOPs, analysis says " + std::to_string(want))
                           .c_str());
            }
          }
      }
  }

  void nothingSilentRunsTheOrdinaryKernel() {
    std::mt19937 rng(3);
    Graph g = convGraph({"3x3", 8, 8, 3, 1, 1, 1, true, "relu"}, rng);
    // One kernel for both executors (each would otherwise time its own pick).
    g.nodes[1].attrs["topiary.kernel"] = Attribute::ofString("dense");
    Tensor x(DType::Float, {2, 8, 8, 8});
    for (int64_t i = 0; i < x.numel(); ++i) x.f()[i] = 0.5f + static_cast<float>(i % 5) * 0.1f;
    auto dense = executor(g, -1), skip = executor(g, 0);
    QVERIFY(dense->run(x).isOk() && skip->run(x).isOk());
    QCOMPARE(skip->dynamicSkippedFlops(), std::vector<double>(2, 0.0));
    QCOMPARE(testutil::maxAbsDiff(skip->output(0), dense->output(0)), 0.0);  // the same kernel ran
    bool marked = false;
    for (const auto& line : skip->optimizationLog()) marked |= line.find("run-time channel skipping") != std::string::npos;
    QVERIFY(marked);
  }

  void groupedConvStaysDense() {
    std::mt19937 rng(5);
    Graph g = convGraph({"grouped", 8, 8, 3, 1, 1, 2, true, ""}, rng);
    Tensor x = patternedInput(3, 8, rng);
    auto dense = executor(g, -1), skip = executor(g, 0);
    QVERIFY(dense->run(x).isOk() && skip->run(x).isOk());
    QVERIFY(skip->dynamicSkippedFlops().empty());
    QCOMPARE(testutil::maxAbsDiff(skip->output(0), dense->output(0)), 0.0);
    bool why = false;
    for (const auto& line : skip->optimizationLog()) why |= line.find("grouped convolution") != std::string::npos;
    QVERIFY(why);
  }

  // The demo models on real images: exact at threshold 0, skipped FLOPs as analysed.
  void demoModels() {
    DatasetOptions dopt;
    dopt.limit = 12;
    auto data = loadDataset("fashion-mnist", dopt);
    if (!data) QSKIP(data.status().message().c_str());
    Tensor images;
    std::vector<int> labels;
    data->batch(0, 12, images, &labels);
    for (const char* name : {"resnet8", "mobilenet-tiny", "lenet5"}) {
      auto g = loadModel(testutil::sourcePath(std::string("resources/models/") + name + ".onnx"));
      if (!g) QSKIP(g.status().message().c_str());
      for (auto& n : g->nodes)
        if (n.opType == "Conv") n.attrs["topiary.dynamic_path"] = Attribute::ofString("compact");
      auto dense = executor(*g, -1), skip = executor(*g, 0);
      QVERIFY2(dense->run(images).isOk(), name);
      QVERIFY2(skip->run(images).isOk(), name);
      QVERIFY2(relDiff(skip->output(0), dense->output(0)) <= 1e-5, name);
      auto r = analyzeDynamicSkipping(*g, images);
      QVERIFY2(r.isOk(), r.status().message().c_str());
      const std::vector<double> saved = skip->dynamicSkippedFlops();
      QCOMPARE(saved.size(), size_t(12));
      double total = 0;
      for (size_t n = 0; n < saved.size(); ++n) {
        const double want = r->inputs[n].savedFlops;
        QVERIFY2(std::fabs(saved[n] - want) <= 1e-9 * std::max(1.0, want),
                 (std::string(name) + ": image " + std::to_string(n) + " skipped " + std::to_string(saved[n]) +
                  ", analysis " + std::to_string(want))
                     .c_str());
        total += saved[n] / r->inputs[n].flops;
      }
      qInfo("%s: %.1f%% of the FLOPs skipped at threshold 0 (12 images)", name, 100.0 * total / 12.0);
    }
  }
};

QTEST_APPLESS_MAIN(TestDynamicExec)
#include "test_dynamic_exec.moc"
