// One image's operator work shared between the calling thread and one
// helper thread (batch 1 on two threads: ONNX Runtime splits a convolution's
// output there, and so do we for the heavier layers).
//
// Unlike an OpenMP fork/join, the calling thread never waits for a helper
// that has not started: both claim pieces one at a time from one atomic
// word, so when the OS does not schedule the helper (a loaded machine) the
// caller simply does every piece itself. It only waits for pieces the helper
// is already running. The helper spins for a short while after each job
// (a network's layers follow each other within microseconds), then sleeps.
#pragma once

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

// Runs fn(piece, slot) for every piece in [0, pieces), slot 0 on the calling
// thread and slot 1 on the helper (scratch per slot), and returns when all
// have finished. Runs every piece on the calling thread when the helper is
// busy with another caller's job or pieces < 2. fn must not throw.
void runShared(int64_t pieces, PieceFn fn);

// Slots runShared() may pass to fn.
constexpr int kSharedSlots = 2;

}  // namespace topiary::kernels
