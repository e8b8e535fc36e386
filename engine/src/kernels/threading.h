// How many threads a kernel should use for a given amount of work. Forking
// an OpenMP team costs microseconds, and on a loaded machine a worker that
// is not scheduled stalls the whole team for a time slice, so small work runs
// on the calling thread only.
#pragma once

#include <omp.h>

#include <algorithm>
#include <chrono>

namespace topiary::kernels {

// About 40 microseconds of single-core work per extra thread.
constexpr double kFlopsPerThread = 2.0e6;

inline int threadsFor(double flops, int available) {
  int t = static_cast<int>(flops / kFlopsPerThread);
  return std::max(1, std::min(available, t));
}

// Sets the calling thread's OpenMP team size (which Eigen's GEMM reads) for
// a scope. The setting is per thread, so concurrent executors don't interfere.
class OmpThreadsScope {
 public:
  explicit OmpThreadsScope(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(std::max(1, threads)); }
  ~OmpThreadsScope() { omp_set_num_threads(saved_); }
  OmpThreadsScope(const OmpThreadsScope&) = delete;
  OmpThreadsScope& operator=(const OmpThreadsScope&) = delete;

 private:
  int saved_;
};

// Shortest of `repeats` timed calls of f, in seconds (one untimed call
// first). Used to pick between kernels on the real input.
template <class F>
double fastestOf(int repeats, F&& f) {
  f();
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace topiary::kernels
