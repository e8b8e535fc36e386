// No buffer allocations in the steady state: once an executor has run a
// batch size (the first run sizes tensors and scratch and times the kernel
// choice), later runs of that size must not allocate a block of 1 KB or more
// (tensors, scratch, packing buffers). Every allocation of the process
// (malloc, calloc, realloc, the aligned forms, so also operator new and
// Eigen's temporaries) is counted while a run is in progress, on any
// thread; smaller ones (shape vectors) are counted and printed. Checked on
// the bundled models, dense and pruned (unstructured 90%, 2:4, filter 50%),
// with the inference optimiser, at batch 1 and 16 on one and two threads.
// Sanitizer builds skip it (their runtimes own malloc).
#include <QtTest>

#include <execinfo.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "common/test_util.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/prune_run.h"
#include "topiary/recipe.h"

#if !defined(TOPIARY_SANITIZED)
namespace {
// Buffers (tensors, scratch, packed weights, GEMM panels) are at least this
// big; smaller blocks are bookkeeping (shape vectors), counted apart.
constexpr size_t kBufferBytes = 1024;
std::atomic<bool> gCounting{false};
std::atomic<long> gBuffers{0}, gSmall{0};
// TOPIARY_ALLOC_TRACE=1 prints the stack of every counted buffer allocation
// (resolve the addresses with addr2line -f -C -e <this test>).
const bool kTrace = std::getenv("TOPIARY_ALLOC_TRACE") != nullptr;
thread_local bool tInHook = false;
inline void noteAlloc(size_t bytes) {
  if (!gCounting.load(std::memory_order_relaxed) || tInHook) return;  // not the trace's own (backtrace allocates)
  if (bytes < kBufferBytes) {
    gSmall.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  gBuffers.fetch_add(1, std::memory_order_relaxed);
  if (kTrace && !tInHook) {
    tInHook = true;  // backtrace() may allocate on its first call
    void* frames[24];
    backtrace_symbols_fd(frames, backtrace(frames, 24), 2);
    if (write(2, "----\n", 5) < 0) tInHook = false;
    tInHook = false;
  }
}
}  // namespace

// glibc's own allocator under the public names: the program's definitions
// take precedence over libc's for every library in the process.
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  noteAlloc(n);
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t s) {
  noteAlloc(n * s);
  return __libc_calloc(n, s);
}
void* realloc(void* p, size_t n) {
  noteAlloc(n);
  return __libc_realloc(p, n);
}
void* memalign(size_t a, size_t n) {
  noteAlloc(n);
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
  noteAlloc(n);
  return __libc_memalign(a, n);
}
int posix_memalign(void** p, size_t a, size_t n) {
  noteAlloc(n);
  *p = __libc_memalign(a, n);
  return *p ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}
#endif

using namespace topiary;
namespace fs = std::filesystem;

class TestSteadyStateAlloc : public QObject {
  Q_OBJECT

 private slots:
  void runsDoNotAllocateOnceWarm() {
#if defined(TOPIARY_SANITIZED)
    QSKIP("the sanitizer runtime owns malloc");
#else
    // The counters work: a large vector's buffer is one buffer allocation,
    // the vector object itself one small one.
    gBuffers = 0;
    gSmall = 0;
    gCounting = true;
    auto* probe = new std::vector<float>(100000);
    gCounting = false;
    delete probe;
    QCOMPARE(gBuffers.load(), 1L);
    QCOMPARE(gSmall.load(), 1L);

    const char* variants[][2] = {{"dense", ""},
                                 {"element90", R"({"default": {"granularity": "element", "sparsity": 0.9}})"},
                                 {"nm24", R"({"default": {"granularity": "nm", "n": 2, "m": 4}})"},
                                 {"filter50", R"({"default": {"granularity": "filter", "sparsity": 0.5}})"}};
    std::mt19937 rng(7);
    std::vector<std::string> failures;
    int checked = 0;
    long smallMost = 0;  // small allocations per run, most of any configuration
    for (const auto& e : fs::directory_iterator(testutil::sourcePath("resources/models"))) {
      if (e.path().extension() != ".onnx") continue;
      auto loaded = loadModel(e.path().string());
      QVERIFY2(loaded.isOk(), loaded.status().message().c_str());
      for (const auto& v : variants) {
        Graph g = loaded.value();
        if (*v[1]) {
          auto res = runRecipe(g, parseRecipe(v[1]).value());
          QVERIFY2(res.isOk(), res.status().message().c_str());
          g = res->removed;
        }
        for (int threads : {1, 2})
          for (int64_t batch : {1, 16}) {
            ExecutorOptions opt;
            opt.threads = threads;
            opt.optimizeForInference = true;
            auto ex = Executor::create(g, opt);
            QVERIFY2(ex.isOk(), ex.status().message().c_str());
            Tensor x = makeInputLike(g.inputs[0], batch).value();
            std::uniform_real_distribution<float> u(-1.f, 1.f);
            for (int64_t i = 0; i < x.numel(); ++i) x.at(i) = u(rng);
            for (int warm = 0; warm < 2; ++warm) QVERIFY((*ex)->run(x).isOk());
            gBuffers = 0;
            gSmall = 0;
            gCounting = true;
            bool ok = true;
            for (int r = 0; r < 3; ++r) ok = (*ex)->run(x).isOk() && ok;
            gCounting = false;
            QVERIFY(ok);
            const long n = gBuffers.load(), small = gSmall.load();
            const std::string tag = e.path().stem().string() + "/" + v[0] + " threads " + std::to_string(threads) +
                                    " batch " + std::to_string(batch);
            std::printf("  %-44s %ld buffer and %ld small allocations in 3 runs\n", tag.c_str(), n, small);
            if (n != 0) failures.push_back(tag + ": " + std::to_string(n) + " buffer allocations in 3 warm runs");
            smallMost = std::max(smallMost, small / 3);
            ++checked;
          }
      }
    }
    std::printf("at most %ld small (< %zu bytes) allocations per warm run\n", smallMost, kBufferBytes);
    for (const auto& f : failures) qWarning("%s", f.c_str());
    QVERIFY2(failures.empty(), failures.empty() ? "" : failures.front().c_str());
    QVERIFY(checked >= 5 * 4 * 4);
#endif
  }
};

QTEST_GUILESS_MAIN(TestSteadyStateAlloc)
#include "test_steady_state_alloc.moc"
