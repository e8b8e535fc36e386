// kernels::runShared: every piece runs exactly once, on slot 0 or 1, and the
// call returns only when all have finished, for many consecutive jobs (the
// helper still spinning, or late, between them) and when two threads call
// at once (one of them then runs its job alone).
#include <QtTest>
#include <atomic>
#include <thread>
#include <vector>

#include "kernels/shared_work.h"

using namespace topiary;

namespace {

// Runs `jobs` jobs of varying piece counts; false on any piece run twice,
// missed, run after the call returned, or on a bad slot.
bool runJobs(int jobs, int seed) {
  for (int j = 0; j < jobs; ++j) {
    const int64_t pieces = 1 + (j * 7 + seed) % 40;
    std::vector<std::atomic<int>> hits(static_cast<size_t>(pieces));
    for (auto& h : hits) h.store(0);
    std::atomic<bool> badSlot{false};
    kernels::runShared(pieces, [&](int64_t i, int slot) {
      if (slot < 0 || slot >= kernels::kSharedSlots) badSlot.store(true);
      volatile double spin = 0;
      for (int k = 0; k < (i % 5) * 200; ++k) spin = spin + k;  // uneven pieces
      hits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (auto& h : hits)
      if (h.load() != 1) return false;
    if (badSlot.load()) return false;
  }
  return true;
}

}  // namespace

class TestKernelsSharedWork : public QObject {
  Q_OBJECT
 private slots:
  void everyPieceOnce() { QVERIFY(runJobs(3000, 1)); }

  void twoCallers() {
    std::atomic<bool> ok1{false}, ok2{false};
    std::thread a([&] { ok1.store(runJobs(1500, 4)); });
    std::thread b([&] { ok2.store(runJobs(1500, 5)); });
    a.join();
    b.join();
    QVERIFY(ok1.load());
    QVERIFY(ok2.load());
  }

  void slotsUsed() {
    // Piece results land where the caller expects, whichever thread ran them.
    std::vector<int64_t> out(64, -1);
    kernels::runShared(64, [&](int64_t i, int) { out[static_cast<size_t>(i)] = i * i; });
    for (int64_t i = 0; i < 64; ++i) QCOMPARE(out[static_cast<size_t>(i)], i * i);
    int calls = 0;
    kernels::runShared(1, [&](int64_t i, int slot) { calls += static_cast<int>(i) + 1 + slot; });
    QCOMPARE(calls, 1);  // one piece: the calling thread, slot 0
  }
};

QTEST_APPLESS_MAIN(TestKernelsSharedWork)
#include "test_kernels_shared_work.moc"
