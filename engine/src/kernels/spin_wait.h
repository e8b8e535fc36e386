// A short busy wait for another thread's word, before sleeping on a
// condition variable: a woken sleeper runs tens of microseconds late (and
// a time slice late on a loaded machine), against 5-10 us between two
// layers of a network.
#pragma once

#include <chrono>
#include <thread>

namespace topiary::kernels {

// A spinning thread's pause between two looks at a shared word: cheaper than
// sched_yield (a system call of about half a microsecond, a tenth of a small
// piece), and it leaves the core's resources to a sibling hyperthread.
inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Looks this many times with relax() between looks before yielding the
// core: 5-10 us (a pause is 65-140 cycles, by CPU), about the gap between
// two layers of a network.
constexpr int kPauseSpins = 200;

// Waits until pred() holds: kPauseSpins looks with relax() between them,
// then looks with a yield of the core between them until `yieldFor` has
// passed since the call (by default for ever). Returns false when the time
// ran out first (the caller then sleeps).
template <class Pred>
bool spinUntil(Pred&& pred, std::chrono::microseconds yieldFor = std::chrono::microseconds::max()) {
  const bool forever = yieldFor == std::chrono::microseconds::max();
  const auto deadline =
      forever ? std::chrono::steady_clock::time_point::max() : std::chrono::steady_clock::now() + yieldFor;
  for (int i = 0; i < kPauseSpins; ++i) {
    if (pred()) return true;
    relax();
  }
  for (;;) {
    if (pred()) return true;
    if (!forever && std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
}

}  // namespace topiary::kernels
