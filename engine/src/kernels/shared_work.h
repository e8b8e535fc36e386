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
#include <functional>

namespace topiary::kernels {

// Runs fn(piece, slot) for every piece in [0, pieces), slot 0 on the calling
// thread and slot 1 on the helper (scratch per slot), and returns when all
// have finished. Runs every piece on the calling thread when the helper is
// busy with another caller's job or pieces < 2. fn must not throw.
void runShared(int64_t pieces, const std::function<void(int64_t piece, int slot)>& fn);

// Slots runShared() may pass to fn.
constexpr int kSharedSlots = 2;

}  // namespace topiary::kernels
