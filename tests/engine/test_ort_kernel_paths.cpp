// Every inference kernel path against ONNX Runtime: the bundled models,
// dense and pruned as the benchmark prunes them (unstructured 90%, 2:4 per
// tap, 2:4 per kernel, filter 50% physically removed), are saved and run by
// ORT (tools/ort/run.mjs), and by our executor with the inference optimiser
// (BatchNorm folding, fused activations and residuals, squeeze-excite
// fusion), once with the timed kernel choice and once per forced kernel
// (the "topiary.kernel" attribute on every Conv and Gemm: dense, direct,
// Winograd F(2x2) and F(4x4), co-vector, CSR, 2:4, the sparse direct ones,
// the kernel-wise 2:4 Winograd; depthwise interleaved or per plane), at
// batch 1 and 3 on two threads (one image shared by two threads, and an odd
// batch split over them). Every output must satisfy
// |ours - ORT| <= kTol * max(1, |ORT|), and every forced kernel must have
// run on some layer, so no path goes untested when a model changes.
#include <QtTest>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "common/ort_util.h"
#include "common/test_util.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"

using namespace topiary;
namespace fs = std::filesystem;

namespace {

// The plain parity test's bound (test_ort_parity.cpp). Winograd F(4x4,3x3)
// rounds differently from a direct sum, but on these models its worst
// scaled difference is about 3e-5.
constexpr double kTol = 1e-4;

const char* const kForced[] = {"dense",     "packed", "direct",     "winograd",  "winograd43",    "co-vector",
                               "csr",       "2:4",    "csr-direct", "nm-direct", "winograd43-nm", "nm-kernel-direct",
                               "csr-window"};

struct Variant {
  const char* name;
  const char* recipe;  // empty: the model as shipped
};
const Variant kVariants[] = {
    {"dense", ""},
    {"element90", R"({"default": {"granularity": "element", "sparsity": 0.9}})"},
    {"nm24", R"({"default": {"granularity": "nm", "n": 2, "m": 4}})"},
    {"nm24-kernel", R"({"default": {"granularity": "nm", "n": 2, "m": 4, "nm_pattern": "kernel"}})"},
    {"filter50", R"({"default": {"granularity": "filter", "sparsity": 0.5}})"},
};

struct Run {
  std::string label;   // model/variant/kernel/batch
  size_t job = 0;      // index of ORT's report
  std::vector<Tensor> ours;
};

Tensor randomBatch(const Graph& g, int64_t batch, std::mt19937& rng) {
  auto t = makeInputLike(g.inputs[0], batch);
  Tensor r = t.value();
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < r.numel(); ++i) r.at(i) = u(rng);
  return r;
}

// The graph with "topiary.kernel" = kernel on every Conv and Gemm.
Graph forcing(const Graph& g, const std::string& kernel) {
  Graph f = g;
  for (auto& n : f.nodes)
    if (n.opType == "Conv" || n.opType == "Gemm") n.attrs["topiary.kernel"] = Attribute::ofString(kernel);
  return f;
}

}  // namespace

class TestOrtKernelPaths : public QObject {
  Q_OBJECT

 private slots:
  void everyKernelPathMatchesOnnxRuntime() {
    std::string why = testutil::ortUnavailableReason();
    if (!why.empty()) QSKIP(("ONNX Runtime is not available: " + why).c_str());
    std::mt19937 rng(20261124);
    std::vector<testutil::OrtJob> jobs;
    std::vector<Run> runs;
    std::map<std::string, int> forcedSeen;  // forced kernel -> layers that ran it
    std::set<std::string> choicesSeen;      // what the timed choice picked
    const std::string modelsDir = testutil::sourcePath("resources/models");
    std::vector<fs::path> models;
    for (const auto& e : fs::directory_iterator(modelsDir))
      if (e.path().extension() == ".onnx") models.push_back(e.path());
    std::sort(models.begin(), models.end());
    QVERIFY(models.size() >= 5);
    for (const auto& path : models) {
      auto loaded = loadModel(path.string());
      QVERIFY2(loaded.isOk(), loaded.status().message().c_str());
      for (const auto& v : kVariants) {
        Graph g = loaded.value();
        if (*v.recipe) {
          auto r = parseRecipe(v.recipe);
          QVERIFY2(r.isOk(), r.status().message().c_str());
          auto res = runRecipe(g, r.value());
          QVERIFY2(res.isOk(), (path.stem().string() + " " + v.name + ": " + res.status().message()).c_str());
          g = res->removed;
        }
        const std::string tag = path.stem().string() + "/" + v.name;
        const std::string file = testutil::tempDir() + "/" + path.stem().string() + "_" + v.name + ".onnx";
        Status st = saveModel(g, file);
        QVERIFY2(st.isOk(), st.message().c_str());
        for (int64_t batch : {1, 3}) {
          Tensor x = randomBatch(g, batch, rng);
          const size_t job = jobs.size();
          jobs.push_back({file, {{g.inputs[0].name, x}}});
          std::vector<std::string> kernels{""};
          kernels.insert(kernels.end(), std::begin(kForced), std::end(kForced));
          for (const auto& k : kernels) {
            ExecutorOptions opt;
            opt.threads = 2;
            opt.optimizeForInference = true;
            const Graph run = k.empty() ? g : forcing(g, k);  // must outlive the executor
            auto ex = Executor::create(run, opt);
            QVERIFY2(ex.isOk(), (tag + " " + k + ": " + ex.status().message()).c_str());
            st = (*ex)->run(x);
            QVERIFY2(st.isOk(), (tag + " " + k + ": " + st.message()).c_str());
            Run r{tag + " kernel " + (k.empty() ? "timed" : k) + " batch " + std::to_string(batch), job, {}};
            for (size_t i = 0; i < (*ex)->outputCount(); ++i) r.ours.push_back((*ex)->output(i));
            runs.push_back(std::move(r));
            for (const auto& c : (*ex)->kernelChoices()) {
              if (c.empty()) continue;
              const std::string name = c.substr(0, c.find(' '));  // without the density
              if (k.empty()) choicesSeen.insert(name);
              else if (name == k || (k == "csr-direct" && name == "2:4-direct") ||
                       (k == "direct" && name == "dw-interleaved") || (k == "dense" && name == "dw-plane") ||
                       (k == "csr" && name == "dw-sparse"))
                ++forcedSeen[k];
            }
          }
        }
      }
    }
    auto reports = testutil::runOrtJobs(jobs);
    QCOMPARE(reports.size(), jobs.size());
    std::vector<std::string> failures;
    double worst = 0;
    std::string worstLabel;
    for (const auto& r : runs) {
      const auto& ref = reports[r.job];
      if (!ref.error.empty()) {
        failures.push_back(r.label + ": ORT: " + ref.error);
        continue;
      }
      if (ref.outputs.size() != r.ours.size()) {
        failures.push_back(r.label + ": output count differs");
        continue;
      }
      for (size_t i = 0; i < r.ours.size(); ++i) {
        double abs = 0;
        const double s = testutil::scaledDiff(r.ours[i], ref.outputs[i].tensor, &abs);
        if (!(s <= kTol)) failures.push_back(r.label + ": max |ours-ORT| " + std::to_string(abs));
        if (s > worst || worstLabel.empty()) {
          worst = s;
          worstLabel = r.label;
        }
      }
    }
    std::printf("%zu runs on %zu ORT jobs; worst scaled difference %.3g (%s)\n", runs.size(), jobs.size(), worst,
                worstLabel.c_str());
    for (const char* k : kForced) std::printf("  forced %-14s ran on %d layers\n", k, forcedSeen[k]);
    std::string picked;
    for (const auto& c : choicesSeen) picked += " " + c;
    std::printf("  timed choices:%s\n", picked.c_str());
    for (const auto& f : failures) qWarning("%s", f.c_str());
    QVERIFY2(failures.empty(), failures.empty() ? "" : failures.front().c_str());
    for (const char* k : kForced) QVERIFY2(forcedSeen[k] > 0, (std::string("no layer ran kernel ") + k).c_str());
  }
};

QTEST_GUILESS_MAIN(TestOrtKernelPaths)
#include "test_ort_kernel_paths.moc"
