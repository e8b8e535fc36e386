// How many threads a kernel should use for a given amount of work. Forking
// an OpenMP team costs microseconds, and on a loaded machine a worker that
// is not scheduled stalls the whole team for a time slice, so small work runs
// on the calling thread only.
#pragma once

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <ctime>

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

// Seconds of CPU time the calling thread has used, or a negative value
// where the clock is missing.
inline double threadCpuSeconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return static_cast<double>(ts.tv_sec) + 1e-9 * ts.tv_nsec;
#endif
  return -1.0;
}

// Shortest of `repeats` timed calls of f, in seconds (one untimed call
// first). Used to pick between kernels on the real input. When f runs on
// the calling thread only, its CPU time is measured: on a loaded machine
// the wall time also counts the slices other processes took, which made
// the choice between two close kernels a coin toss.
template <class F>
double fastestOf(int repeats, F&& f) {
  const bool cpu = (omp_get_max_threads() == 1 || omp_in_parallel()) && threadCpuSeconds() >= 0;
  auto now = [cpu] {
    return cpu ? threadCpuSeconds()
               : std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  f();
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

}  // namespace topiary::kernels
