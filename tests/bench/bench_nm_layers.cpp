// Per layer, 2:4 sparse kernels against the dense ones, in one run: each
// demo model is pruned 2:4 by the engine's recipe runner (magnitude, groups
// of 4 input channels at each tap, as the shipped nm-2-4 recipes do; no
// fine-tuning: the speed does not depend on the values), then every Conv
// and Gemm is run on its real input with each kernel forced in turn
// (topiary.kernel), rounds interleaved so load on a shared machine hits all
// kernels alike, timed by the thread's CPU time. Prints, per layer, the
// direct dense kernel (Gemm: Eigen), the best dense kernel (direct, im2col
// GEMM, Winograd, co-vector; Gemm: Eigen or packed), the best 2:4 kernel and the two speed-ups.
// --pattern kernel prunes kernel-wise ("nm_pattern": "kernel": 2 whole
// kernels of every 4 input channels), which the kernel-wise 2:4 Winograd
// (winograd43-nm) and the kernel-wise 2:4 direct kernel (nm-kernel-direct)
// run; tap (the default) is the per-tap pattern.
//   bench_nm_layers [--model NAME ...] [--batch B ...] [--pattern tap|kernel ...] [--rounds R] [--threads T]
//                   [--kernels]
// (--kernels also prints every kernel's median per layer).
// --threads T (default 1) runs each kernel with T threads and times it by
// the wall clock (CPU time would not count a helper's share); at batch 1
// on two threads that shows the kernels that share one image with a helper.
// Batch 4 is what a batch of 256 runs per layer (the executor's chunks).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernel_choice.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"

using namespace topiary;

namespace {

double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

bool isSparse(const std::string& k) {
  return k == "2:4" || k == "csr" || k == "csr-direct" || k == "nm-direct" || k == "winograd43-nm" ||
         k == "nm-kernel-direct";
}

bool gAllKernels = false;  // --kernels: every kernel's median too
int gThreads = 1;          // --threads

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void layers(const std::string& name, const std::string& pattern, const Graph& g, int64_t batch, int rounds) {
  ExecutorOptions o;
  o.threads = gThreads;
  o.optimizeForInference = true;
  o.splitBatch = false;  // every layer's input is then the whole batch's tensor
  auto ex = Executor::create(g, o);
  if (!ex) return (void)std::fprintf(stderr, "%s: %s\n", name.c_str(), ex.status().message().c_str());
  Tensor x = makeInputLike(g.inputs[0], batch).value();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = u(rng);
  if (!(*ex)->run(x)) return (void)std::fprintf(stderr, "%s: run failed\n", name.c_str());
  std::printf("\n%s 2:4 (%s pattern), batch %lld, %d thread(s) (%s time): us per layer, median of %d\n", name.c_str(),
              pattern.c_str(), static_cast<long long>(batch), gThreads, gThreads > 1 ? "wall" : "CPU", rounds);
  std::printf("| layer | op | direct (Gemm: Eigen) | best dense | best 2:4 | x direct | x best dense |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  const std::vector<std::string> convKernels = {"dense", "direct",     "winograd",  "winograd43",   "co-vector",
                                                "2:4",   "csr-direct", "nm-direct", "winograd43-nm",
                                                "nm-kernel-direct"};
  const std::vector<std::string> gemmKernels = {"dense", "packed", "csr", "2:4"};
  for (size_t i = 0; i < (*ex)->nodeCount(); ++i) {
    const Node& node = (*ex)->runNode(i);
    if (node.opType != "Conv" && node.opType != "Gemm") continue;
    if (node.opType == "Conv" && node.attrInt("group", 1) > 1) continue;  // depthwise: kept dense by the recipes
    const std::vector<std::string>& names = node.opType == "Conv" ? convKernels : gemmKernels;
    std::vector<const Tensor*> in = (*ex)->nodeInputs(i);
    std::vector<std::unique_ptr<Kernel>> ks(names.size());
    std::vector<Tensor> ys(names.size());
    std::vector<std::vector<double>> times(names.size());
    RunContext ctx;
    ctx.threads = gThreads;
    for (size_t k = 0; k < names.size(); ++k) {
      Node n = node;
      n.attrs["topiary.frozen"] = Attribute::ofInt(1);
      n.attrs["topiary.kernel"] = Attribute::ofString(names[k]);
      auto built = OpRegistry::instance().build(n, g.opset());
      if (!built) continue;
      std::vector<Tensor*> out{&ys[k]};
      if (!built.value()->forward(in, out, ctx)) continue;
      // A forced kernel that does not apply falls back to the timed choice: skip it.
      auto* kc = dynamic_cast<kernels::KernelChoice*>(built.value().get());
      const std::string choice = kc ? kc->kernelChoice() : "";
      const bool sameKind = choice.compare(0, names[k].size(), names[k]) == 0 ||
                            (names[k] == "csr-direct" && choice.compare(0, 10, "2:4-direct") == 0);
      if (sameKind) ks[k] = std::move(built.value());
    }
    for (int r = 0; r < rounds; ++r)
      for (size_t k = 0; k < names.size(); ++k) {
        if (!ks[k]) continue;
        std::vector<Tensor*> out{&ys[k]};
        const double t0 = gThreads > 1 ? wallSeconds() : cpuSeconds();
        (void)ks[k]->forward(in, out, ctx);
        times[k].push_back(1e6 * ((gThreads > 1 ? wallSeconds() : cpuSeconds()) - t0));
      }
    double direct = -1, dense = 1e300, sparse = 1e300;
    std::string denseName, sparseName;
    for (size_t k = 0; k < names.size(); ++k) {
      if (!ks[k]) continue;
      const double t = median(times[k]);
      if (names[k] == "direct" || (node.opType == "Gemm" && names[k] == "dense")) direct = t;
      if (isSparse(names[k]) && t < sparse) sparse = t, sparseName = names[k];
      if (!isSparse(names[k]) && t < dense) dense = t, denseName = names[k];
    }
    if (sparse >= 1e300 || dense >= 1e300) continue;
    if (gAllKernels) {
      std::printf("|   %s:", node.label().c_str());
      for (size_t k = 0; k < names.size(); ++k)
        if (ks[k]) std::printf(" %s %.1f", names[k].c_str(), median(times[k]));
      std::printf(" |\n");
    }
    std::printf("| %s | %s | %.1f | %.1f (%s) | %.1f (%s) | %.2f | %.2f |\n", node.label().c_str(), node.opType.c_str(),
                direct, dense, denseName.c_str(), sparse, sparseName.c_str(), direct > 0 ? direct / sparse : 0.0,
                dense / sparse);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  std::vector<int64_t> batches;
  int rounds = 21;
  std::vector<std::string> patterns;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc)
      models.push_back(argv[++i]);
    else if (a == "--batch" && i + 1 < argc)
      batches.push_back(std::atoll(argv[++i]));
    else if (a == "--pattern" && i + 1 < argc)
      patterns.push_back(argv[++i]);
    else if (a == "--threads" && i + 1 < argc)
      gThreads = std::max(1, std::atoi(argv[++i]));
    else if (a == "--kernels")
      gAllKernels = true;
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr,
                   "usage: bench_nm_layers [--model NAME ...] [--batch B ...] [--pattern tap|kernel ...] "
                   "[--rounds R] [--threads T] [--kernels]\n");
      return 2;
    }
  }
  if (models.empty()) models = {"lenet5-caffe", "lenet-300-100", "lenet5", "resnet8", "mobilenet-tiny"};
  if (batches.empty()) batches = {4, 1};
  if (patterns.empty()) patterns = {"tap"};
  for (const auto& name : models) {
    auto l = loadModel(std::string(TOPIARY_SOURCE_DIR) + "/resources/models/" + name + ".onnx");
    if (!l) {
      std::fprintf(stderr, "error: %s\n", l.status().message().c_str());
      return 2;
    }
    for (const auto& pattern : patterns) {
      auto r = parseRecipe(R"({"default": {"granularity": "nm", "n": 2, "m": 4, "criterion": "l1", "nm_pattern": ")" +
                           pattern + "\"}}");
      if (!r) {
        std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
        return 2;
      }
      auto res = runRecipe(l.value(), r.value());
      if (!res) {
        std::fprintf(stderr, "error: pruning %s: %s\n", name.c_str(), res.status().message().c_str());
        return 2;
      }
      for (int64_t b : batches) layers(name, pattern, res->masked, b, rounds);
    }
  }
  return 0;
}
