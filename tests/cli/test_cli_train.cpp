// topiary-cli train and eval: outputs, JSON keys, exit codes and messages.
#include <QProcess>
#include <QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/test_util.h"

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

Run cli(const QStringList& args) {
  QProcess p;
  p.start(TOPIARY_CLI, args);
  p.waitForFinished(600000);
  Run r;
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput().toStdString();
  r.err = p.readAllStandardError().toStdString();
  return r;
}

}  // namespace

class TestCliTrain : public QObject {
  Q_OBJECT
 private slots:
  void trainThenEvalJson() {
    std::string out = testutil::tempDir() + "/cli-lenet5.onnx";
    Run t = cli({"train", "--arch", "lenet5", "--data", "fashion-mnist:train", "--epochs", "2", "--limit", "1200",
                 "--batch", "32", "--optimizer", "adam", "--threads", "1", "--val-fraction", "0.1", "--out",
                 QString::fromStdString(out), "--json"});
    QVERIFY2(t.code == 0, t.err.c_str());
    auto j = nlohmann::json::parse(t.out, nullptr, false);
    QVERIFY2(!j.is_discarded(), t.out.c_str());
    QCOMPARE(j["arch"].get<std::string>(), std::string("lenet5"));
    QCOMPARE(j["params"].get<int64_t>(), int64_t(61706));
    QCOMPARE(j["samples"].get<int64_t>(), int64_t(1080));
    QCOMPARE(j["epochs"].size(), size_t(2));
    const auto& e2 = j["epochs"][1];
    QVERIFY(e2["loss"].get<double>() < j["epochs"][0]["loss"].get<double>());
    QVERIFY(e2["images_per_second"].get<double>() > 0);
    double va = e2["validation_accuracy"].get<double>();
    QVERIFY(va > 0.3 && va <= 1.0);
    QVERIFY(std::filesystem::exists(out));

    Run e = cli({"eval", QString::fromStdString(out), "--data", "fashion-mnist", "--limit", "500", "--batch", "100",
                 "--threads", "1", "--json"});
    QVERIFY2(e.code == 0, e.err.c_str());
    auto r = nlohmann::json::parse(e.out, nullptr, false);
    QVERIFY2(!r.is_discarded(), e.out.c_str());
    QCOMPARE(r["samples"].get<int64_t>(), int64_t(500));
    double acc = r["accuracy"].get<double>();
    QVERIFY2(acc > 0.5 && acc <= 1.0, e.out.c_str());
    const auto& lat = r["latency_ms"];
    QVERIFY(lat["min"].get<double>() > 0);
    QVERIFY(lat["min"].get<double>() <= lat["median"].get<double>());
    QVERIFY(lat["median"].get<double>() <= lat["max"].get<double>());
    QVERIFY(r["seconds"].get<double>() > 0);

    Run text = cli({"eval", QString::fromStdString(out), "--limit", "100", "--threads", "1"});
    QCOMPARE(text.code, 0);
    QVERIFY(text.out.find("accuracy") != std::string::npos);
  }

  void errorsExitTwoNamingTheProblem_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mention");
    QString out = QString::fromStdString(testutil::tempDir() + "/never.onnx");
    QTest::newRow("unknown arch") << QStringList{"train", "--arch", "alexnet", "--out", out} << "alexnet";
    QTest::newRow("missing data") << QStringList{"train", "--arch", "lenet5", "--data", "idx:/no/such/images,/no/such/labels",
                                                 "--out", out}
                                  << "/no/such/images";
    QTest::newRow("no out") << QStringList{"train", "--arch", "lenet5"} << "--out";
    QTest::newRow("bad epochs") << QStringList{"train", "--arch", "lenet5", "--epochs", "zero", "--out", out} << "--epochs";
    QTest::newRow("bad optimizer") << QStringList{"train", "--arch", "lenet5", "--optimizer", "lbfgs", "--limit", "64",
                                                  "--out", out}
                                   << "lbfgs";
    QTest::newRow("infinite lr") << QStringList{"train",   "--arch", "lenet5", "--lr", "inf",
                                                "--limit", "64",     "--out",  out}
                                 << "--lr must be a finite positive number, got 'inf'";
    // nan passed the range checks (training then blamed the learning rate),
    // and a negative step factor trained by gradient ascent with exit 0.
    QTest::newRow("nan momentum") << QStringList{"train",   "--arch", "lenet5", "--momentum", "nan",
                                                 "--limit", "64",     "--out",  out}
                                  << "--momentum must be a number in [0, 1), got 'nan'";
    QTest::newRow("infinite weight decay")
        << QStringList{"train", "--arch", "lenet5", "--weight-decay", "inf", "--limit", "64", "--out", out}
        << "--weight-decay must be a finite number >= 0, got 'inf'";
    QTest::newRow("negative step gamma") << QStringList{"train",        "--arch", "lenet5",   "--schedule", "step",
                                                        "--step-gamma", "-1",     "--epochs", "2",          "--limit",
                                                        "64",           "--out",  out}
                                         << "--step-gamma must be a finite number above 0, got '-1'";
    QTest::newRow("eval missing model") << QStringList{"eval", "/no/such/model.onnx"} << "/no/such/model.onnx";
    QTest::newRow("eval bad spec") << QStringList{"eval", QString::fromStdString(testutil::sourcePath("resources/models/lenet5.onnx")),
                                                  "--data", "imagenet"}
                                   << "imagenet";
  }
  void errorsExitTwoNamingTheProblem() {
    QFETCH(QStringList, args);
    QFETCH(QString, mention);
    Run r = cli(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.find(mention.toStdString()) != std::string::npos, r.err.c_str());
    QVERIFY(!std::filesystem::exists(testutil::tempDir() + "/never.onnx"));
  }
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "test_cli_train.moc"
