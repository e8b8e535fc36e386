#include "kernels/shared_work.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace topiary::kernels {

namespace {

// The job word: generation (24 bits) | piece count (20) | next piece (20).
// Claims compare-and-swap the whole word, so a helper that read an old job
// can never claim a piece of a newer one.
constexpr int kIndexBits = 20;
constexpr uint64_t kIndexMask = (uint64_t(1) << kIndexBits) - 1;
constexpr int64_t kMaxPieces = int64_t(kIndexMask);

uint64_t pack(uint64_t gen, uint64_t pieces, uint64_t index) {
  return (gen << (2 * kIndexBits)) | (pieces << kIndexBits) | index;
}
uint64_t genOf(uint64_t w) { return w >> (2 * kIndexBits); }
uint64_t piecesOf(uint64_t w) { return (w >> kIndexBits) & kIndexMask; }
uint64_t indexOf(uint64_t w) { return w & kIndexMask; }

class Pool {
 public:
  Pool() {
    std::thread([this] { serve(); }).detach();  // lives as long as the process
  }

  bool tryRun(int64_t pieces, const PieceFn& fn) {
    std::unique_lock<std::mutex> one(caller_, std::try_to_lock);
    if (!one.owns_lock()) return false;
    fn_.store(&fn, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    gen_ = (gen_ + 1) & ((uint64_t(1) << 24) - 1);
    word_.store(pack(gen_, static_cast<uint64_t>(pieces), 0));  // publishes fn_ and done_
    if (sleeping_.load()) {
      { std::lock_guard<std::mutex> lock(m_); }
      wake_.notify_one();
    }
    work(gen_, 0);
    // Only pieces the helper has claimed are left; they are running.
    while (done_.load(std::memory_order_acquire) < pieces) std::this_thread::yield();
    return true;
  }

 private:
  // Claims and runs pieces of job `gen` until none is left.
  void work(uint64_t gen, int slot) {
    uint64_t w = word_.load(std::memory_order_acquire);
    for (;;) {
      if (genOf(w) != gen || indexOf(w) >= piecesOf(w)) return;
      if (!word_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel)) continue;
      // The job cannot finish before this piece does, so fn_ is still its function.
      (*fn_.load(std::memory_order_relaxed))(static_cast<int64_t>(indexOf(w)), slot);
      done_.fetch_add(1, std::memory_order_acq_rel);
      w = word_.load(std::memory_order_acquire);
    }
  }

  void serve() {
    uint64_t seen = genOf(word_.load());
    for (;;) {
      const auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      uint64_t w = word_.load(std::memory_order_acquire);
      while (genOf(w) == seen && std::chrono::steady_clock::now() < spinUntil) {
        std::this_thread::yield();
        w = word_.load(std::memory_order_acquire);
      }
      if (genOf(w) == seen) {
        std::unique_lock<std::mutex> lock(m_);
        sleeping_.store(true);
        wake_.wait(lock, [&] { return genOf(word_.load()) != seen; });
        sleeping_.store(false);
        w = word_.load(std::memory_order_acquire);
      }
      seen = genOf(w);
      work(seen, 1);
    }
  }

  std::atomic<uint64_t> word_{0};
  std::atomic<const PieceFn*> fn_{nullptr};
  std::atomic<int64_t> done_{0};
  std::atomic<bool> sleeping_{false};
  uint64_t gen_ = 0;  // the last job's generation (under caller_)
  std::mutex caller_, m_;
  std::condition_variable wake_;
};

}  // namespace

void runShared(int64_t pieces, PieceFn fn) {
  if (pieces >= 2 && pieces <= kMaxPieces) {
    static Pool* pool = new Pool();  // never destroyed: its helper runs until the process ends
    if (pool->tryRun(pieces, fn)) return;
  }
  for (int64_t i = 0; i < pieces; ++i) fn(i, 0);
}

}  // namespace topiary::kernels
