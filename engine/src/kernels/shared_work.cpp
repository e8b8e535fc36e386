#include "kernels/shared_work.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/spin_wait.h"
#include "kernels/threading.h"

namespace topiary::kernels {

namespace {

// The job word: generation (12 bits) | slots (4) | piece count (16) |
// pieces claimed from the front (16) | from the back (16). Claims
// compare-and-swap the whole word, so a helper that read an old job can
// never claim a piece of a newer one.
//
// The caller claims from the front (pieces 0, 1, ...) and the first helper
// from the back (the last piece, then the one before): when both keep pace,
// each gets the same half of every job, as a static split would, so the
// rows one thread wrote for a layer are the rows it reads for the next
// while they are still in its core's cache. (Claimed in one order, who got
// which chunk changed from job to job: resnet8 trained on two cores at
// 1.59x its one-core speed, median of 5 rounds, and 1.76x with the halves
// kept.) Further helpers claim from the front.
constexpr int kIndexBits = 16;
constexpr uint64_t kIndexMask = (uint64_t(1) << kIndexBits) - 1;
constexpr int64_t kMaxPieces = int64_t(kIndexMask);
constexpr int kSlotBits = 4;
constexpr int kMaxSlots = (1 << kSlotBits) - 1;
constexpr int kSlotShift = 3 * kIndexBits;
constexpr int kGenShift = kSlotShift + kSlotBits;
constexpr uint64_t kGenMask = (uint64_t(1) << (64 - kGenShift)) - 1;
constexpr uint64_t kFrontOne = uint64_t(1) << kIndexBits;  // one more piece claimed from the front
constexpr uint64_t kBackOne = 1;                           // one more from the back

uint64_t pack(uint64_t gen, uint64_t slots, uint64_t pieces) {
  return (gen << kGenShift) | (slots << kSlotShift) | (pieces << (2 * kIndexBits));
}
uint64_t genOf(uint64_t w) { return w >> kGenShift; }
int slotsOf(uint64_t w) { return static_cast<int>((w >> kSlotShift) & kMaxSlots); }
uint64_t piecesOf(uint64_t w) { return (w >> (2 * kIndexBits)) & kIndexMask; }
uint64_t frontOf(uint64_t w) { return (w >> kIndexBits) & kIndexMask; }
uint64_t backOf(uint64_t w) { return w & kIndexMask; }

// How long a helper looks for the next job before it sleeps.
constexpr std::chrono::microseconds kHelperSpin{200};

thread_local bool tInPiece = false;
thread_local bool tCountHelperCpu = false;  // CountHelperCpu
thread_local double tHelperCpu = 0;         // helperCpuSeconds()

// Marks the calling thread as running pieces, with a thread budget of one.
class PieceScope {
 public:
  PieceScope() { tInPiece = true; }
  ~PieceScope() { tInPiece = false; }
  PieceScope(const PieceScope&) = delete;
  PieceScope& operator=(const PieceScope&) = delete;

 private:
  ThreadsScope one_{1};
};

class Pool {
 public:
  // `helpers` threads with slots 1 .. helpers; they live as long as the process.
  explicit Pool(int helpers) : helpers_(helpers) {
    for (int s = 1; s <= helpers_; ++s) std::thread([this, s] { serve(s); }).detach();
  }
  int helpers() const { return helpers_; }

  bool tryRun(int64_t pieces, int slots, const PieceFn& fn) {
    std::unique_lock<std::mutex> one(caller_, std::try_to_lock);
    if (!one.owns_lock()) return false;
    fn_.store(&fn, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const bool count = tCountHelperCpu;
    countCpu_.store(count, std::memory_order_relaxed);
    helperNs_.store(0, std::memory_order_relaxed);
    gen_ = (gen_ + 1) & kGenMask;
    // Publishes fn_, done_, countCpu_ and helperNs_.
    word_.store(pack(gen_, static_cast<uint64_t>(slots), static_cast<uint64_t>(pieces)));
    if (sleeping_.load() > 0) {
      { std::lock_guard<std::mutex> lock(m_); }
      wake_.notify_all();
    }
    {
      PieceScope scope;
      work(gen_, 0);
    }
    // Only pieces a helper has claimed are left; they are running.
    spinUntil([&] { return done_.load(std::memory_order_acquire) >= pieces; });
    // Every helper added its time before counting its piece done.
    if (count) tHelperCpu += 1e-9 * static_cast<double>(helperNs_.load(std::memory_order_relaxed));
    return true;
  }

 private:
  // Claims and runs pieces of job `gen` until none is left: slot 1 from the
  // back, the others from the front.
  void work(uint64_t gen, int slot) {
    const bool back = slot == 1;
    uint64_t w = word_.load(std::memory_order_acquire);
    for (;;) {
      if (genOf(w) != gen || frontOf(w) + backOf(w) >= piecesOf(w)) return;
      if (!word_.compare_exchange_weak(w, w + (back ? kBackOne : kFrontOne), std::memory_order_acq_rel)) continue;
      const uint64_t piece = back ? piecesOf(w) - 1 - backOf(w) : frontOf(w);
      // The job cannot finish before this piece does, so fn_ and countCpu_
      // are still its own.
      const bool count = slot != 0 && countCpu_.load(std::memory_order_relaxed);
      const double t0 = count ? threadCpuSeconds() : 0.0;
      (*fn_.load(std::memory_order_relaxed))(static_cast<int64_t>(piece), slot);
      if (count) helperNs_.fetch_add(static_cast<int64_t>(1e9 * (threadCpuSeconds() - t0)), std::memory_order_relaxed);
      done_.fetch_add(1, std::memory_order_acq_rel);
      w = word_.load(std::memory_order_acquire);
    }
  }

  void serve(int slot) {
    ThreadsScope one(1);
    tInPiece = true;  // this thread only ever runs pieces
    // The generation before the first job: a job published before this
    // thread started is joined too (it used to be skipped, so the first
    // job of the process never had a helper).
    uint64_t seen = 0;
    for (;;) {
      uint64_t w;
      auto newJob = [&] {
        w = word_.load(std::memory_order_acquire);
        return genOf(w) != seen;
      };
      if (!spinUntil(newJob, kHelperSpin)) {
        std::unique_lock<std::mutex> lock(m_);
        sleeping_.fetch_add(1);
        wake_.wait(lock, [&] { return genOf(word_.load()) != seen; });
        sleeping_.fetch_sub(1);
        w = word_.load(std::memory_order_acquire);
      }
      seen = genOf(w);
      if (slot < slotsOf(w)) work(seen, slot);  // a job for fewer threads leaves this helper out
    }
  }

  const int helpers_;
  std::atomic<uint64_t> word_{0};
  std::atomic<const PieceFn*> fn_{nullptr};
  std::atomic<int64_t> done_{0};
  std::atomic<bool> countCpu_{false};  // the caller counts its helpers' CPU time
  std::atomic<int64_t> helperNs_{0};   // helpers' CPU nanoseconds on this job's pieces
  std::atomic<int> sleeping_{0};
  uint64_t gen_ = 0;  // the last job's generation (under caller_)
  std::mutex caller_, m_;
  std::condition_variable wake_;
};

Pool& pool() {
  // One helper per further core; never destroyed (its helpers run until the process ends).
  static Pool* p = new Pool(std::clamp(static_cast<int>(std::thread::hardware_concurrency()) - 1, 1, kMaxSlots - 1));
  return *p;
}

}  // namespace

bool inSharedWork() { return tInPiece; }

bool wakeHelpers(int threads, std::chrono::microseconds limit) {
  if (threads < 2 || tInPiece) return false;
  // Two pieces: the caller takes piece 0 and waits in it for a helper to
  // take piece 1 (from the back), or runs piece 1 itself after `limit`.
  // When another caller holds the helpers, runPieces runs both pieces
  // inline (not inside shared work): then nothing is waited for.
  std::atomic<bool> helped{false};
  runPieces(2, std::min(threads, kSharedSlots), [&](int64_t piece, int slot) {
    if (slot != 0)
      helped.store(true, std::memory_order_release);
    else if (piece == 0 && tInPiece)
      spinUntil([&] { return helped.load(std::memory_order_acquire); }, limit);
  });
  return helped.load();
}

CountHelperCpu::CountHelperCpu(bool on) : saved_(tCountHelperCpu) { tCountHelperCpu = on; }
CountHelperCpu::~CountHelperCpu() { tCountHelperCpu = saved_; }

double helperCpuSeconds() { return tHelperCpu; }

void runPieces(int64_t pieces, int threads, PieceFn fn) {
  if (pieces >= 2 && pieces <= kMaxPieces && threads >= 2 && !tInPiece) {
    Pool& p = pool();
    const int slots = std::min(threads, p.helpers() + 1);
    if (p.tryRun(pieces, slots, fn)) return;
  }
  for (int64_t i = 0; i < pieces; ++i) fn(i, 0);
}

}  // namespace topiary::kernels
