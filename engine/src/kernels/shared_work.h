// Work shared between the calling thread and the process's helper threads:
// one image's operator split in pieces (batch 1 on two threads: ONNX
// Runtime splits a convolution's output there, and so do we for the heavier
// layers), and every ops::parallelFor.
//
// Unlike an OpenMP fork/join, the calling thread never waits for a helper
// that has not started: all claim pieces one at a time from one atomic
// word, so when the OS does not schedule a helper (a loaded machine) the
// caller simply does the pieces itself. It only waits for pieces a helper
// is already running. (OpenMP's static split waited for every thread of the
// team: training lenet5 on two threads beside a two-process build ran at
// 400 images/s against 8,000 on one.) Helpers spin for a short while after
// each job (a network's layers follow each other within microseconds), then
// sleep.
#pragma once

#include <chrono>
#include <cstdint>

namespace topiary::kernels {

// A reference to the caller's fn(piece, slot), valid while runShared runs:
// unlike a std::function it never allocates (a warm run allocates nothing).
class PieceFn {
 public:
  template <class F>
  PieceFn(const F& f)  // NOLINT: converts from any callable, as std::function does
      : obj_(&f), call_([](const void* o, int64_t piece, int slot) { (*static_cast<const F*>(o))(piece, slot); }) {}
  void operator()(int64_t piece, int slot) const { call_(obj_, piece, slot); }

 private:
  const void* obj_;
  void (*call_)(const void*, int64_t, int);
};

// Runs fn(piece, slot) for every piece in [0, pieces) on up to `threads`
// threads: slot 0 is the calling thread, slots 1 .. threads-1 helpers
// (scratch per slot), and returns when all pieces have finished. Runs every
// piece on the calling thread when threads < 2, pieces < 2, the helpers are
// busy with another caller's job, or the caller is itself running a piece
// (nested calls). Inside fn the thread budget (kernels/threading.h) is one
// thread, on the caller as on the helpers. fn must not throw.
void runPieces(int64_t pieces, int threads, PieceFn fn);

// Slots runShared() may pass to fn.
constexpr int kSharedSlots = 2;

// runPieces on the calling thread and at most one helper.
inline void runShared(int64_t pieces, PieceFn fn) { runPieces(pieces, kSharedSlots, fn); }

// True while the calling thread runs a piece of runPieces().
bool inSharedWork();
// Gets a helper running before a shared kernel is timed: a sleeping helper
// starts tens of microseconds after the job that woke it, so the first
// layer of a network, timed right after the helpers' last job, saw every
// piece run by the caller (resnet8's stem: the shared co-vector kernel
// timed 7.9 us, as on one thread, and lost to the 6.1 us direct kernel).
// Returns whether a helper took part within `limit` (false with one thread,
// nested in a piece, when the helpers are busy, or on a loaded machine).
bool wakeHelpers(int threads, std::chrono::microseconds limit = std::chrono::microseconds(2000));

// Counts the helpers' CPU time for the calling thread while it lives: the
// CPU seconds a helper spends running pieces of this thread's jobs are
// added to this thread's helperCpuSeconds(). fastestOf times a kernel by
// the CPU time of the thread that calls it, and a kernel that hands half
// its work to a helper otherwise looked half as expensive as it is. Off by
// default: reading a thread's CPU clock is a system call per piece.
class CountHelperCpu {
 public:
  explicit CountHelperCpu(bool on = true);
  ~CountHelperCpu();
  CountHelperCpu(const CountHelperCpu&) = delete;
  CountHelperCpu& operator=(const CountHelperCpu&) = delete;

 private:
  bool saved_;
};

// CPU seconds helpers have spent on the calling thread's jobs while it
// counted them (only grows; take differences).
double helperCpuSeconds();

// Work (multiply-adds counted as 2) from which one image's layer is shared
// (the co-vector and F(4x4, 3x3) paths at batch 1 on two threads or more):
// about 3-6 us on one core here. resnet8's 14x14 and 7x7 layers of 1.8 MFLOP
// each took 22 us alone and ~14 us shared. Smaller layers are shared too:
// a layer the caller runs alone writes its output over lines the helper
// read in the run before (the next layer's share of its input), and each
// such line is first taken back from the other core: writing 50 KB the
// other core had read took 8 us against 1.3 us (standalone, this machine).
// From 1.5 MFLOP down to 0.2, resnet8 at batch 1 on two threads went from
// 0.1223-0.1245 ms to 0.1195-0.1206 (its 1x1 projections, 0.2-0.4 MFLOP,
// now shared; 6 interleaved pairs); mobilenet-tiny stayed at 0.067.
constexpr double kSharedMinFlops = 0.2e6;

}  // namespace topiary::kernels
