// How many threads a kernel should use for a given amount of work, and the
// calling thread's thread budget. Sharing work costs microseconds, and on a
// loaded machine a helper that is not scheduled runs nothing, so small work
// runs on the calling thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "kernels/shared_work.h"

namespace topiary::kernels {

// About 40 microseconds of single-core work per extra thread.
constexpr double kFlopsPerThread = 2.0e6;

inline int threadsFor(double flops, int available) {
  int t = static_cast<int>(flops / kFlopsPerThread);
  return std::max(1, std::min(available, t));
}

namespace detail {
// 0 until a ThreadsScope sets it on this thread.
inline thread_local int tThreadBudget = 0;
}  // namespace detail

// The calling thread's thread budget: the threads the running operator may
// use (its ThreadsScope), 1 inside a piece of shared work
// (kernels/shared_work.h) and on the helper threads, the core count on a
// thread that never set one. fastestOf reads it. It is per thread, so
// concurrent executors don't interfere.
inline int currentThreads() {
  if (detail::tThreadBudget > 0) return detail::tThreadBudget;
  static const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return cores;
}

// Sets the calling thread's budget (at least 1) for a scope.
class ThreadsScope {
 public:
  explicit ThreadsScope(int threads) : saved_(detail::tThreadBudget) { detail::tThreadBudget = std::max(1, threads); }
  ~ThreadsScope() { detail::tThreadBudget = saved_; }
  ThreadsScope(const ThreadsScope&) = delete;
  ThreadsScope& operator=(const ThreadsScope&) = delete;

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
// first). Used to pick between kernels on the real input. When the budget
// is one thread, CPU time is measured: on a loaded machine the wall time
// also counts the slices other processes took, which made the choice
// between two close kernels a coin toss. A kernel that still shares its
// work (batch-1 shared paths call runShared whatever the budget) is measured
// by the longer of its two sides: the caller's CPU time and the CPU time
// helpers spent on its pieces (CountHelperCpu). That is its wall time when
// both ran at once, which is what sharing is for: counting only the caller
// made a kernel whose helper did the heavier piece look cheaper than it is,
// and adding the two (the work it costs) made sharing never pay, so batch-1
// layers on two threads fell back to one-thread kernels (resnet8 0.13 ->
// 0.18 ms). Wall time itself is what fails under load: a helper the OS does
// not schedule, or another process's slices, decide the choice by chance.
// With more than one helper their times would be summed, overstating a
// shared kernel; the batch-1 shared paths use one (kSharedSlots).
template <class F>
double fastestOf(int repeats, F&& f) {
  const bool cpu = currentThreads() == 1 && threadCpuSeconds() >= 0;
  CountHelperCpu helpers(cpu);
  auto wall = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
  f();
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    if (cpu) {
      const double c0 = threadCpuSeconds(), h0 = helperCpuSeconds();
      f();
      best = std::min(best, std::max(threadCpuSeconds() - c0, helperCpuSeconds() - h0));
    } else {
      const double t0 = wall();
      f();
      best = std::min(best, wall() - t0);
    }
  }
  return best;
}

}  // namespace topiary::kernels
