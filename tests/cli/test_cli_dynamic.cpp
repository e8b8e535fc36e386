// topiary-cli eval --dynamic-skip: the dense run and run-time channel
// skipping at each threshold in one invocation, with the FLOPs saved per input.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "common/test_util.h"

class TestCliDynamic : public QObject {
  Q_OBJECT

 private slots:
  void evalReportsEachThreshold() {
    const QString model = QString::fromStdString(testutil::sourcePath("resources/models/mobilenet-tiny.onnx"));
    auto r = clitest::runCli({"eval", model, "--data", "fashion-mnist", "--limit", "64", "--batch", "32", "--threads",
                              "1", "--dynamic-skip", "0,1", "--json"});
    if (r.exitCode == 2 && r.err.find("fashion-mnist") != std::string::npos) QSKIP("Fashion-MNIST is not installed");
    QVERIFY2(r.exitCode == 0, r.err.c_str());
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    QVERIFY2(!j.is_discarded(), r.out.c_str());
    QCOMPARE(j["samples"].get<int64_t>(), int64_t(64));
    QVERIFY(j["flops"].get<double>() > 0);
    const auto& rows = j["dynamic"];
    QCOMPARE(rows.size(), size_t(2));
    // Threshold 0 skips exact zeros only: the same predictions as the dense model.
    QCOMPARE(rows[0]["threshold"].get<double>(), 0.0);
    QCOMPARE(rows[0]["accuracy"].get<double>(), j["accuracy"].get<double>());
    for (const auto& row : rows) {
      QCOMPARE(row["samples"].get<int64_t>(), int64_t(64));
      const auto& f = row["saved_fraction"];
      QVERIFY(f["min"].get<double>() >= 0);
      QVERIFY(f["min"].get<double>() <= f["mean"].get<double>());
      QVERIFY(f["mean"].get<double>() <= f["max"].get<double>());
      QVERIFY(f["max"].get<double>() < 1);
      // Silent channels are skipped only where compacting was timed faster.
      QVERIFY(row["silent_fraction"]["mean"].get<double>() >= f["mean"].get<double>() - 1e-12);
      QVERIFY(row["latency_ms"]["median"].get<double>() > 0);
      QVERIFY(row["latency_ratio"].get<double>() > 0);
    }
    // Threshold 1 silences channels that matter (test set: 0.27 vs 0.915). How
    // much it saves depends on the timed per-image path choice, so it is not
    // asserted here (tests/engine/test_dynamic_exec.cpp checks exact counts).
    QVERIFY2(rows[1]["accuracy"].get<double>() < j["accuracy"].get<double>() - 0.1, r.out.c_str());
  }

  void badThresholdExitsTwo() {
    const QString model = QString::fromStdString(testutil::sourcePath("resources/models/lenet5.onnx"));
    auto r = clitest::runCli({"eval", model, "--limit", "8", "--dynamic-skip", "0,-1"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.find("--dynamic-skip") != std::string::npos && r.err.find("-1") != std::string::npos,
             r.err.c_str());
    // inf and nan are refused too (inf ran and printed "threshold": null).
    for (const char* t : {"inf", "nan"}) {
      r = clitest::runCli({"eval", model, "--limit", "8", "--dynamic-skip", QString("0,") + t, "--json"});
      QCOMPARE(r.exitCode, 2);
      QVERIFY2(r.out.empty() && r.err.find("--dynamic-skip") != std::string::npos && r.err.find(t) != std::string::npos,
               r.err.c_str());
      r = clitest::runCli({"bench", model, "--runs", "1", "--dynamic-skip", t, "--json"});
      QCOMPARE(r.exitCode, 2);
      QVERIFY2(r.out.empty() && r.err.find("--dynamic-skip") != std::string::npos, r.err.c_str());
    }
    // --profile alone profiles nothing: refused (it was silently ignored).
    r = clitest::runCli({"eval", model, "--limit", "8", "--profile"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.find("--profile") != std::string::npos && r.err.find("--dynamic-skip") != std::string::npos,
             r.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestCliDynamic)
#include "test_cli_dynamic.moc"
