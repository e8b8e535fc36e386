// kernels::runShared / runPieces: every piece runs exactly once, on a slot
// below the thread count, and the call returns only when all have
// finished, for many consecutive jobs (the helper still spinning, or late,
// between them) and when two threads call at once (one of them then runs
// its job alone). Calls from inside a piece run inline, the thread budget
// (kernels/threading.h) is one thread inside pieces and per thread, and
// Eigen never splits a product itself. Then ops::parallelFor on the same
// helpers: contiguous chunks that cover [0, n) once, at least minChunk
// long; kernels::productRows against one Eigen product. First of all,
// kernels::wakeHelpers on the process's first job.
#include <Eigen/Core>
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/parallel_product.h"
#include "kernels/shared_work.h"
#include "kernels/threading.h"
#include "ops/common.h"

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
  // First, before any other job of this process: the helper threads start
  // with the process's first job, usually after it was published, and they
  // used to skip it. wakeHelpers' caller waits in its piece for a helper to
  // take the other one (up to 10 s here, for a loaded machine; it returns
  // as soon as a helper comes).
  void firstJobGetsAHelper() {
    QVERIFY(kernels::wakeHelpers(2, std::chrono::seconds(10)));
    QVERIFY(kernels::wakeHelpers(2, std::chrono::seconds(10)));
    // One thread, or nested in a piece: nothing to wake, and no waiting.
    QVERIFY(!kernels::wakeHelpers(1, std::chrono::seconds(1)));
    std::atomic<int> woke{0}, ran{0};
    kernels::runPieces(2, 2, [&](int64_t, int) {
      woke += kernels::wakeHelpers(2, std::chrono::seconds(1));
      ++ran;
    });
    QCOMPARE(ran.load(), 2);
    QCOMPARE(woke.load(), 0);
  }
  // While another thread's job holds the helpers, wakeHelpers runs inline
  // and returns at once instead of waiting out its limit.
  void wakeWhileHelpersBusy() {
    std::atomic<bool> holding{false}, release{false};
    std::thread other([&] {
      kernels::runPieces(2, 2, [&](int64_t piece, int) {
        if (piece != 0) return;
        holding = true;
        while (!release.load()) std::this_thread::yield();
      });
    });
    while (!holding.load()) std::this_thread::yield();
    const auto t0 = std::chrono::steady_clock::now();
    const bool woke = kernels::wakeHelpers(2, std::chrono::seconds(20));
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    release = true;
    other.join();
    QVERIFY(!woke);
    QVERIFY2(waited < 10, qPrintable(QString("waited %1 s").arg(waited)));
  }
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

  void callerFrontHelperBack() {
    // On two threads the caller claims pieces from the front and the helper
    // from the back, so each keeps the same half of consecutive jobs while
    // both keep pace: slot 0 always holds a prefix, slot 1 the rest.
    for (int job = 0; job < 2000; ++job) {
      const int64_t pieces = 2 + job % 15;
      std::vector<std::atomic<int>> slotOf(static_cast<size_t>(pieces));
      for (auto& v : slotOf) v.store(-1);
      kernels::runPieces(pieces, 2, [&](int64_t i, int slot) {
        volatile double spin = 0;
        for (int k = 0; k < 300; ++k) spin = spin + k;
        slotOf[static_cast<size_t>(i)].store(slot);
      });
      int64_t firstHelper = pieces;
      for (int64_t i = 0; i < pieces; ++i)
        if (slotOf[static_cast<size_t>(i)].load() == 1) {
          firstHelper = i;
          break;
        }
      for (int64_t i = 0; i < pieces; ++i) QCOMPARE(slotOf[static_cast<size_t>(i)].load(), i < firstHelper ? 0 : 1);
    }
  }

  void oneThreadStaysInline() {
    // threads = 1: every piece on the caller, in order.
    std::vector<int64_t> order;
    kernels::runPieces(10, 1, [&](int64_t i, int slot) { order.push_back(slot == 0 ? i : -1); });
    QCOMPARE(order.size(), size_t(10));
    for (int64_t i = 0; i < 10; ++i) QCOMPARE(order[static_cast<size_t>(i)], i);
  }

  void nestedCallsRunInline() {
    // A call from inside a piece runs all its pieces on that thread (slot 0),
    // whichever thread that is; the flag is set only inside pieces.
    QVERIFY(!kernels::inSharedWork());
    std::atomic<int> bad{0}, inner{0};
    kernels::runPieces(8, 2, [&](int64_t, int) {
      if (!kernels::inSharedWork()) bad.fetch_add(1);
      const std::thread::id me = std::this_thread::get_id();
      kernels::runPieces(5, 2, [&](int64_t, int slot) {
        if (slot != 0 || std::this_thread::get_id() != me) bad.fetch_add(1);
        inner.fetch_add(1);
      });
    });
    QCOMPARE(bad.load(), 0);
    QCOMPARE(inner.load(), 40);
    QVERIFY(!kernels::inSharedWork());
  }

  void oneThreadBudgetInsidePieces() {
    // A kernel inside a piece sees a budget of one thread, on the caller as
    // on the helper (it must not share its work again, and fastestOf times
    // its CPU time), and the caller's budget comes back after.
    kernels::ThreadsScope two(2);
    QCOMPARE(kernels::currentThreads(), 2);
    std::atomic<int> wide{0}, pieces{0};
    for (int job = 0; job < 200; ++job)
      kernels::runPieces(16, 2, [&](int64_t, int) {
        if (kernels::currentThreads() != 1) wide.fetch_add(1);
        volatile double spin = 0;
        for (int k = 0; k < 300; ++k) spin = spin + k;
        pieces.fetch_add(1);
      });
    QCOMPARE(pieces.load(), 200 * 16);
    QCOMPARE(wide.load(), 0);
    QCOMPARE(kernels::currentThreads(), 2);
    {
      kernels::ThreadsScope inner(3);
      QCOMPARE(kernels::currentThreads(), 3);
      kernels::ThreadsScope none(0);  // at least one thread
      QCOMPARE(kernels::currentThreads(), 1);
    }
    QCOMPARE(kernels::currentThreads(), 2);
    // Per thread: a new thread has the core count, and its scope leaves this one alone.
    int fresh = 0, set = 0;
    std::thread t([&] {
      fresh = kernels::currentThreads();
      kernels::ThreadsScope five(5);
      set = kernels::currentThreads();
    });
    t.join();
    QCOMPARE(fresh, std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
    QCOMPARE(set, 5);
    QCOMPARE(kernels::currentThreads(), 2);
    // Built with EIGEN_DONT_PARALLELIZE: Eigen's GEMM never runs threads of its own.
    QCOMPARE(Eigen::nbThreads(), 1);
  }

  void fastestOfCountsHelperCpu() {
    // With a budget of one thread, fastestOf times CPU time; a shared
    // kernel is measured by the longer of the caller's and the helper's
    // CPU times (its wall time when both ran at once). The caller claims
    // pieces from the front, the helper from the back.
    if (kernels::threadCpuSeconds() < 0) QSKIP("no per-thread CPU clock");
    kernels::ThreadsScope one(1);
    auto busy = [] {
      volatile double s = 0;
      for (int k = 0; k < 400000; ++k) s = s + k;  // ~1-2 ms
    };
    const double inlineTime = kernels::fastestOf(3, [&] {
      for (int i = 0; i < 5; ++i) busy();
    });
    // A light piece (1) for the caller, a heavy one (4) for the helper:
    // 4/5 of the inline time when the helper ran it, 5/5 when the caller ran
    // both; counting only the caller measured 1/5.
    std::atomic<int> onHelper{0};
    const double unequal = kernels::fastestOf(3, [&] {
      kernels::runShared(2, [&](int64_t piece, int slot) {
        for (int i = 0; i < (piece == 0 ? 1 : 4); ++i) busy();
        if (slot != 0) onHelper.fetch_add(1);
      });
    });
    QVERIFY2(unequal >= 0.65 * inlineTime, qPrintable(QString("shared %1 ms, inline %2 ms, %3 pieces on the helper")
                                                          .arg(1e3 * unequal)
                                                          .arg(1e3 * inlineTime)
                                                          .arg(onHelper.load())));
    // Pieces of 2 and 3, the caller running the first and the helper the
    // second at the same time: the measure is at most the call's wall time
    // (each side's CPU time is), about 3/5 of the inline time, where the sum
    // of both threads' times would be 5/5 or more. Under load the helper may
    // run both pieces, none, or start late (the caller's wait then burns CPU
    // time too), so only an attempt whose timed call split as intended and
    // took under 3/4 of the inline time in wall time is checked.
    bool checked = false;
    for (int attempt = 0; attempt < 50 && !checked; ++attempt) {
      std::atomic<int> calls{0}, slotOf0{-1}, slotOf1{-1};
      double wall = 1e300;
      const double split = kernels::fastestOf(1, [&] {  // one untimed call, one timed
        const bool timed = calls.fetch_add(1) == 1;
        const auto t0 = std::chrono::steady_clock::now();
        kernels::runShared(2, [&](int64_t piece, int slot) {
          for (int i = 0; i < (piece == 0 ? 2 : 3); ++i) busy();
          if (timed) (piece == 0 ? slotOf0 : slotOf1).store(slot);
        });
        if (timed) wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      });
      if (slotOf0.load() != 0 || slotOf1.load() < 1 || wall > 0.75 * inlineTime) continue;  // try again
      QVERIFY2(split < 0.8 * inlineTime, qPrintable(QString("shared %1 ms (wall %2 ms), inline %3 ms")
                                                        .arg(1e3 * split)
                                                        .arg(1e3 * wall)
                                                        .arg(1e3 * inlineTime)));
      checked = true;
    }
    if (!checked) qWarning("no call split in time between the caller and the helper (a loaded machine): not checked");
    // Counted only while asked for, and only for the helper's pieces.
    const double before = kernels::helperCpuSeconds();
    kernels::runShared(2, [&](int64_t, int) { busy(); });
    QCOMPARE(kernels::helperCpuSeconds(), before);
    {
      kernels::CountHelperCpu count;
      onHelper.store(0);
      for (int rep = 0; rep < 20 && onHelper.load() == 0; ++rep)
        kernels::runShared(2, [&](int64_t, int slot) {
          busy();
          if (slot != 0) onHelper.fetch_add(1);
        });
      if (onHelper.load() > 0) QVERIFY(kernels::helperCpuSeconds() > before);
    }
    const double after = kernels::helperCpuSeconds();
    kernels::runShared(2, [&](int64_t, int) { busy(); });
    QCOMPARE(kernels::helperCpuSeconds(), after);
  }

  void productRowsMatchesOneProduct_data() {
    QTest::addColumn<int>("form");  // 0 A*B, 1 A^T*B, 2 A*B^T, 3 C += A*B
    QTest::addColumn<int>("threads");
    for (int f = 0; f < 4; ++f)
      for (int t : {1, 2, 3}) QTest::newRow(qPrintable(QString("form%1 t%2").arg(f).arg(t))) << f << t;
  }
  void productRowsMatchesOneProduct() {
    QFETCH(int, form);
    QFETCH(int, threads);
    using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using Map = Eigen::Map<Mat>;
    // 203 rows: pieces of unequal length; ~25 MFLOP, so two threads split it.
    const int64_t M = 203, K = 301, N = 205;
    std::srand(17 + form);
    const Mat a = form == 1 ? Mat(Mat::Random(K, M)) : Mat(Mat::Random(M, K));
    const Mat b = form == 2 ? Mat(Mat::Random(N, K)) : Mat(Mat::Random(K, N));
    const Mat c0 = Mat::Random(M, N);
    Mat want = c0, got = c0;
    Map dst(got.data(), M, N);
    switch (form) {
      case 0:
        want.noalias() = a * b;
        kernels::productRows(dst, a, b, threads);
        break;
      case 1:
        want.noalias() = a.transpose() * b;
        kernels::productRows(dst, a.transpose(), b, threads);
        break;
      case 2:
        want.noalias() = a * b.transpose();
        kernels::productRows(dst, a, b.transpose(), threads);
        break;
      default:
        want.noalias() += a * b;
        kernels::productRows(dst, a, b, threads, true);
    }
    const double err = (want - got).cwiseAbs().maxCoeff(), scale = want.cwiseAbs().maxCoeff();
    QVERIFY(scale > 1.0);
    QVERIFY2(err <= 1e-5 * scale, qPrintable(QString("max diff %1 of %2").arg(err).arg(scale)));
  }

  void parallelForChunks_data() {
    QTest::addColumn<qlonglong>("n");
    QTest::addColumn<int>("threads");
    QTest::addColumn<qlonglong>("minChunk");
    for (qlonglong n : {1LL, 2LL, 7LL, 8LL, 63LL, 1000LL})
      for (int t : {1, 2, 3})
        for (qlonglong m : {1LL, 4LL, 100LL})
          QTest::newRow(qPrintable(QString("n%1 t%2 min%3").arg(n).arg(t).arg(m))) << n << t << m;
  }
  void parallelForChunks() {
    QFETCH(qlonglong, n);
    QFETCH(int, threads);
    QFETCH(qlonglong, minChunk);
    for (int rep = 0; rep < 50; ++rep) {
      std::mutex m;
      std::vector<std::pair<int64_t, int64_t>> chunks;
      ops::parallelFor(
          n, threads,
          [&](int64_t b, int64_t e) {
            std::lock_guard<std::mutex> lock(m);
            chunks.emplace_back(b, e);
          },
          minChunk);
      std::sort(chunks.begin(), chunks.end());
      QVERIFY(!chunks.empty());
      QCOMPARE(chunks.front().first, int64_t(0));
      QCOMPARE(chunks.back().second, int64_t(n));
      for (size_t i = 0; i < chunks.size(); ++i) {
        QVERIFY(chunks[i].first < chunks[i].second);
        if (i > 0) QCOMPARE(chunks[i].first, chunks[i - 1].second);  // contiguous, no overlap
        // Every chunk is at least minChunk long unless n itself is shorter.
        QVERIFY(chunks[i].second - chunks[i].first >= std::min<int64_t>(minChunk, n));
      }
      // Up to 4 chunks per thread; one when a single thread suffices.
      const int64_t maxThreads = std::max<int64_t>(1, std::min<int64_t>(threads, n / minChunk));
      QVERIFY(static_cast<int64_t>(chunks.size()) <= (maxThreads == 1 ? 1 : 4 * maxThreads));
    }
  }
};

QTEST_APPLESS_MAIN(TestKernelsSharedWork)
#include "test_kernels_shared_work.moc"
