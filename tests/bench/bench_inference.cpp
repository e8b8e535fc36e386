// Inference latency of our engine against ONNX Runtime, in one run: demo
// models (lenet5, resnet8, mobilenet-tiny) dense and pruned by magnitude
// (unstructured 90%, 2:4 per tap and per whole kernel, filter 50%) at batch 1
// and 256, the same threads
// for both engines; then, per Conv/Gemm layer, the sparsity at which the CSR
// kernel starts beating the dense one (break-even) and the 2:4 speed-up; and
// the time to evaluate the 10,000 Fashion-MNIST test images with lenet5.
//   bench_inference [--threads N] [--runs R] [--rounds K] [--models DIR]
//                   [--no-ort] [--model NAME ...] [--no-breakeven] [--no-eval]
// Models come from DIR/<name>.onnx (default resources/models) when present,
// else are built untrained (latency does not depend on the weights' values;
// the pruning patterns are magnitude pruning of whatever weights there are).
// Medians of R runs after 3 warm-up runs; ratio = ours / ORT. With K rounds
// (default 3) every row is measured in our engine and then in ONNX Runtime K
// times over, alternating, and the table shows the median of the K medians
// and the median (and range) of the K per-round ratios: on a virtual machine
// whose speed changes from one minute to the next, a ratio of two times taken
// minutes apart can be off by a third; one of two times taken in the same
// round cannot.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "topiary/arch.h"
#include "topiary/dataset.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"
#include "topiary/train.h"

using namespace topiary;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Tensor randomInput(const Graph& g, int64_t batch, uint32_t seed) {
  Tensor t = makeInputLike(g.inputs[0], batch).value();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = u(rng);
  return t;
}

// Median latency of our engine (inference optimisations on) in ms.
double oursMs(const Graph& g, const Tensor& x, int threads, int runs, std::string* err) {
  ExecutorOptions o;
  o.threads = threads;
  o.optimizeForInference = true;
  auto ex = Executor::create(g, o);
  if (!ex) {
    *err = ex.status().message();
    return -1;
  }
  std::vector<double> ms;
  for (int i = 0; i < runs + 3; ++i) {
    auto t0 = Clock::now();
    Status st = (*ex)->run(x);
    if (!st) {
      *err = st.message();
      return -1;
    }
    if (i >= 3) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return median(ms);
}

double totalFlops(const Graph& g) {
  auto ex = Executor::create(g, {1});
  Tensor x = randomInput(g, 1, 1);
  if (!ex || !(*ex)->run(x)) return 0;
  double f = 0;
  for (double v : (*ex)->nodeFlops()) f += v;
  return f;
}

Result<Graph> pruneWith(const Graph& g, const std::string& recipeJson, bool physical) {
  auto r = parseRecipe(recipeJson);
  if (!r) return r.status();
  auto res = runRecipe(g, r.value());
  if (!res) return res.status();
  return physical ? res->removed : res->masked;
}

struct Variant {
  std::string name, recipe;
  bool physical;
};

struct Row {
  std::string model, variant;
  int64_t batch = 1;
  double ours = 0, ort = -1, flopsFraction = 1, denseOurs = 0;
  std::string file, input;
  // One entry per round: our median, ONNX Runtime's (-1: did not run).
  std::vector<double> oursRounds, ortRounds;
  // Medians over the rounds of ours/ORT and dense/this, and their ranges.
  double ratio = 0, ratioMin = 0, ratioMax = 0, speedup = 0, speedupMin = 0, speedupMax = 0;
};

// Median, minimum and maximum of the per-round quotients a[i] / b[i] (rounds
// where either is missing are left out).
void roundRatios(const std::vector<double>& a, const std::vector<double>& b, double& med, double& lo, double& hi) {
  std::vector<double> q;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i] > 0 && b[i] > 0) q.push_back(a[i] / b[i]);
  med = median(q);
  lo = q.empty() ? 0 : *std::min_element(q.begin(), q.end());
  hi = q.empty() ? 0 : *std::max_element(q.begin(), q.end());
}

// Runs every row's model with ONNX Runtime in one Node process and appends
// each row's median to its ortRounds.
bool runOrt(std::vector<Row>& rows, int threads, int runs, const std::string& dir) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& r : rows)
    jobs.push_back(
        {{"model", r.file}, {"inputs", {"input=" + r.input}}, {"threads", threads}, {"warmup", 3}, {"runs", runs}});
  std::string jobsFile = dir + "/jobs.json", outFile = dir + "/ort.json";
  std::ofstream(jobsFile) << jobs.dump();
  std::string runner = std::string(TOPIARY_SOURCE_DIR) + "/tools/ort/run.mjs";
  std::string cmd = "node '" + runner + "' --jobs '" + jobsFile + "' > '" + outFile + "'";
  if (std::system(cmd.c_str()) != 0) return false;
  std::ifstream in(outFile);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!j.is_array() || j.size() != rows.size()) return false;
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i].ortRounds.push_back(j[i].contains("latency_ms") ? j[i]["latency_ms"].value("median", -1.0) : -1.0);
  return true;
}

// Zeroes the smallest-magnitude fraction of a weight tensor.
void magnitudePrune(Tensor& w, double sparsity) {
  std::vector<float> a(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) a[static_cast<size_t>(i)] = std::fabs(w.at(i));
  size_t k = static_cast<size_t>(sparsity * static_cast<double>(a.size()));
  if (k == 0) return;
  std::nth_element(a.begin(), a.begin() + static_cast<long>(k - 1), a.end());
  float thr = a[k - 1];
  int64_t zeroed = 0;
  for (int64_t i = 0; i < w.numel() && zeroed < static_cast<int64_t>(k); ++i)
    if (std::fabs(w.at(i)) <= thr) {
      w.at(i) = 0.f;
      ++zeroed;
    }
}

// Time of one node's kernel (forced to `kernel`) on its real input, median ms.
double layerMs(const Node& node, int64_t opset, const std::vector<const Tensor*>& in, const std::string& kernel,
               int threads, int runs) {
  Node n = node;
  n.attrs["topiary.frozen"] = Attribute::ofInt(1);
  n.attrs["topiary.kernel"] = Attribute::ofString(kernel);
  auto k = OpRegistry::instance().build(n, opset);
  if (!k) return -1;
  Tensor y;
  std::vector<Tensor*> out{&y};
  RunContext ctx;
  ctx.threads = threads;
  std::vector<double> ms;
  for (int i = 0; i < runs + 2; ++i) {
    auto t0 = Clock::now();
    if (!k.value()->forward(in, out, ctx)) return -1;
    if (i >= 2) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return median(ms);
}

// Per Conv/Gemm layer of `g` at `batch`: dense time, CSR time at each
// sparsity of the sweep (magnitude pruned), break-even, 2:4 speed-up.
void breakEven(const std::string& model, const Graph& g, int64_t batch, int threads, int runs) {
  const std::vector<double> sweep{0.5, 0.6, 0.7, 0.8, 0.9, 0.95};
  auto ex = Executor::create(g, {threads});
  Tensor x = randomInput(g, batch, 5);
  if (!ex || !(*ex)->run(x)) return;
  std::printf("\n%s, batch %lld, %d thread(s): per layer, best dense vs best sparse kernel (ms, median of %d)\n",
              model.c_str(), static_cast<long long>(batch), threads, runs);
  std::printf("%-18s %-5s %9s", "layer", "op", "dense");
  for (double s : sweep) std::printf("   csr@%2.0f%%", 100 * s);
  std::printf(" %10s %8s\n", "break-even", "2:4 x");
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& node = g.nodes[i];
    if ((node.opType != "Conv" && node.opType != "Gemm") || !g.isInitializer(node.input(1))) continue;
    std::vector<const Tensor*> in = (*ex)->nodeInputs(i);
    if (node.opType == "Conv" && node.attrInt("group", 1) > 1) continue;  // depthwise: no sparse kernel
    Tensor w = *in[1];
    in[1] = &w;
    // Best dense kernel (the timed choice, im2col + GEMM or direct; Gemm:
    // also Eigen or packed) against the best sparse one (Conv: CSR on im2col or CSR with
    // input offsets; Gemm: CSR, or the windowed form at batch 1) at each
    // sparsity. A forced kernel the operator does not have would run its
    // timed choice, so each list is filtered by operator.
    const bool conv = node.opType == "Conv";
    auto best = [&](std::initializer_list<const char*> kernels) {
      double b = 1e300;
      for (const char* k : kernels) {
        const std::string name = k;
        const bool gemmOnly = name == "packed" || name == "csr-window";
        const bool convOnly = name == "direct" || name == "csr-direct";
        if ((conv && gemmOnly) || (!conv && convOnly) || (name == "csr-window" && batch != 1)) continue;
        double t = layerMs(node, g.opset(), in, k, threads, runs);
        if (t > 0) b = std::min(b, t);
      }
      return b;
    };
    // "": the layer's own timed choice, which on dense weights is the best
    // dense kernel that applies (Winograd, co-vector, ...).
    double dense = best({"", "dense", "direct", "packed"});
    std::printf("%-18s %-5s %9.4f", node.label().c_str(), node.opType.c_str(), dense);
    double be = -1;
    for (double s : sweep) {
      w = *(*ex)->nodeInputs(i)[1];
      magnitudePrune(w, s);
      double t = best({"csr", "csr-direct", "csr-window"});
      std::printf(" %9.4f", t);
      if (be < 0 && t < dense) be = s;
    }
    std::string beText = be < 0 ? "> 95%" : std::to_string(static_cast<int>(std::lround(100 * be))) + "%";
    double nm = -1;
    if (node.opType == "Conv") {
      w = *(*ex)->nodeInputs(i)[1];
      const int64_t cols = w.numel() / w.dim(0);
      for (int64_t r = 0; r < w.dim(0); ++r)  // 2:4 by magnitude along each filter
        for (int64_t c = 0; c + 4 <= cols; c += 4) {
          float* p = w.f() + r * cols + c;
          int idx[4] = {0, 1, 2, 3};
          std::sort(idx, idx + 4, [&](int u, int v) { return std::fabs(p[u]) < std::fabs(p[v]); });
          p[idx[0]] = 0.f;
          p[idx[1]] = 0.f;
        }
      double t = best({"2:4", "csr-direct"});
      if (t > 0) nm = dense / t;
    }
    std::printf(" %10s", beText.c_str());
    if (nm > 0)
      std::printf(" %8.2f\n", nm);
    else
      std::printf(" %8s\n", "-");
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, runs = 30, rounds = 3;
  bool ort = true, doBreakEven = true, doEval = true;
  std::string modelsDir = std::string(TOPIARY_SOURCE_DIR) + "/resources/models";
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = std::max(1, std::atoi(argv[++i]));
    else if (a == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--models" && i + 1 < argc)
      modelsDir = argv[++i];
    else if (a == "--model" && i + 1 < argc)
      names.push_back(argv[++i]);
    else if (a == "--no-ort")
      ort = false;
    else if (a == "--no-breakeven")
      doBreakEven = false;
    else if (a == "--no-eval")
      doEval = false;
    else {
      std::fprintf(
          stderr,
          "usage: bench_inference [--threads N] [--runs R] [--rounds K] [--models DIR] [--model NAME ...] [--no-ort] "
          "[--no-breakeven] [--no-eval]\n");
      return 2;
    }
  }
  if (names.empty()) names = {"lenet5", "resnet8", "mobilenet-tiny"};
  fs::path tmp = fs::temp_directory_path() / ("topiary-bench-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const std::vector<Variant> variants = {
      {"dense", "", false},
      {"unstructured 90%", R"({"default": {"granularity": "element", "sparsity": 0.9}})", false},
      {"2:4", R"({"default": {"granularity": "nm", "n": 2, "m": 4}})", false},
      // 2:4 whole kernels ("nm_pattern": "kernel"): still 2:4 at every tap,
      // and the pattern the Winograd and direct 2:4 kernels exploit.
      {"2:4 kernel", R"({"default": {"granularity": "nm", "n": 2, "m": 4, "nm_pattern": "kernel"}})", false},
      {"filter 50%", R"({"default": {"granularity": "filter", "sparsity": 0.5}})", true},
  };
  std::vector<Row> rows;
  std::vector<Graph> denseGraphs, rowGraphs;
  std::vector<Tensor> rowInputs;
  for (const auto& name : names) {
    Graph g;
    std::string file = modelsDir + "/" + name + ".onnx";
    std::string source = "trained";
    if (fs::exists(file)) {
      auto l = loadModel(file);
      if (!l) {
        std::fprintf(stderr, "error: %s\n", l.status().message().c_str());
        return 2;
      }
      g = std::move(l.value());
    } else {
      auto b = buildArchitecture(name);
      if (!b) {
        std::fprintf(stderr, "error: %s\n", b.status().message().c_str());
        return 2;
      }
      g = std::move(b.value());
      source = "untrained";
    }
    std::printf("%s: %s (%s)\n", name.c_str(), fs::exists(file) ? file.c_str() : "built by arch", source.c_str());
    denseGraphs.push_back(g);
    const double denseFlops = totalFlops(g);
    for (const auto& v : variants) {
      Graph pg = g;
      if (!v.recipe.empty()) {
        auto p = pruneWith(g, v.recipe, v.physical);
        if (!p) {
          std::fprintf(stderr, "error: pruning %s (%s): %s\n", name.c_str(), v.name.c_str(),
                       p.status().message().c_str());
          return 2;
        }
        pg = std::move(p.value());
      }
      std::string vfile = (tmp / (name + "-" + std::to_string(rows.size()) + ".onnx")).string();
      if (!saveModel(pg, vfile)) return 2;
      for (int64_t batch : {1, 256}) {
        Row r;
        r.model = name;
        r.variant = v.name;
        r.batch = batch;
        r.file = vfile;
        r.flopsFraction = v.physical ? totalFlops(pg) / denseFlops : 1.0;
        Tensor x = randomInput(pg, batch, 42);
        r.input = (tmp / ("input-" + std::to_string(rows.size()) + ".pb")).string();
        if (!saveTensorProto(x, "input", r.input)) return 2;
        rows.push_back(r);
        rowGraphs.push_back(pg);
        rowInputs.push_back(std::move(x));
      }
    }
  }
  bool ortRan = ort;
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string err;
      const double ms = oursMs(rowGraphs[i], rowInputs[i], threads, rows[i].batch == 1 ? runs * 4 : runs, &err);
      if (ms < 0) {
        std::fprintf(stderr, "error: %s %s: %s\n", rows[i].model.c_str(), rows[i].variant.c_str(), err.c_str());
        return 1;
      }
      rows[i].oursRounds.push_back(ms);
    }
    if (ortRan && !runOrt(rows, threads, runs, tmp.string())) {
      std::fprintf(stderr, "warning: ONNX Runtime did not run (node tools/ort/run.mjs); ORT columns empty\n");
      ortRan = false;
    }
  }
  for (auto& r : rows) {
    r.ours = median(r.oursRounds);
    std::vector<double> ort;
    for (double v : r.ortRounds)
      if (v > 0) ort.push_back(v);
    r.ort = ort.empty() ? -1 : median(ort);
    roundRatios(r.oursRounds, r.ortRounds, r.ratio, r.ratioMin, r.ratioMax);
    for (const auto& d : rows)
      if (d.model == r.model && d.batch == r.batch && d.variant == "dense") {
        r.denseOurs = d.ours;
        roundRatios(d.oursRounds, r.oursRounds, r.speedup, r.speedupMin, r.speedupMax);
      }
  }

  std::printf(
      "\nlatency, %d threads, median of %d runs (batch 1: %d) in ms; %d round%s, each measuring every row in "
      "both engines; ratios are medians of the per-round ratios [min-max]\n",
      threads, runs, runs * 4, rounds, rounds == 1 ? "" : "s");
  std::printf("%-15s %-17s %6s %10s %10s %9s %11s %10s %11s %8s\n", "model", "variant", "batch", "topiary", "onnxrt",
              "ours/ort", "range", "dense/this", "range", "flops");
  auto range = [](double lo, double hi) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f-%.2f", lo, hi);
    return std::string(b);
  };
  for (const auto& r : rows)
    std::printf("%-15s %-17s %6lld %10.4f %10.4f %9.2f %11s %10.2f %11s %7.0f%%\n", r.model.c_str(), r.variant.c_str(),
                static_cast<long long>(r.batch), r.ours, r.ort, r.ratio,
                r.ort > 0 ? range(r.ratioMin, r.ratioMax).c_str() : "-", r.speedup,
                range(r.speedupMin, r.speedupMax).c_str(), 100 * r.flopsFraction);

  if (doBreakEven)
    for (size_t m = 0; m < names.size(); ++m)
      // One thread: a large batch is split over the threads, each running
      // every layer on its slice, so per-thread layer speed is what counts.
      for (int64_t batch : {1, 32}) breakEven(names[m], denseGraphs[m], batch, 1, std::max(5, runs / 3));

  if (doEval && !names.empty()) {
    auto data = loadDataset("fashion-mnist");
    if (!data) {
      std::fprintf(stderr, "warning: no Fashion-MNIST (%s); skipping eval timing\n", data.status().message().c_str());
    } else {
      std::vector<double> secs;
      double acc = 0;
      for (int i = 0; i < 5; ++i) {
        auto r = evaluate(denseGraphs[0], data.value(), 256, threads);
        if (!r) break;
        secs.push_back(r->seconds);
        acc = r->accuracy;
      }
      std::printf(
          "\nevaluate %s on %lld Fashion-MNIST test images, batch 256, %d threads: median %.3f s "
          "(accuracy %.4f)\n",
          names[0].c_str(), static_cast<long long>(data->size()), threads, median(secs), acc);
    }
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return 0;
}
