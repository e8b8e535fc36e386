// topiary-cli prune and sensitivity as a user runs them: the report's JSON
// keys with checked values, the written model, refusing to overwrite the
// source, recipe errors with exit code 2.
#include <QProcess>
#include <QtTest>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "common/test_util.h"
#include "topiary/arch.h"
#include "topiary/dataset.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"

using namespace topiary;
using json = nlohmann::json;

namespace {

using clitest::CliResult;
using clitest::runCli;

QString writeText(const std::string& name, const std::string& text) {
  std::string path = testutil::tempDir() + "/" + name;
  std::ofstream(path) << text;
  return QString::fromStdString(path);
}

}  // namespace

class TestCliPrune : public QObject {
  Q_OBJECT
  QString model_;

  json pruneJson(const std::string& recipe, const QString& out, QStringList extra = {}) {
    QString r = writeText("recipe.json", recipe);
    QStringList args = {"prune", model_, "--recipe", r, "--out", out, "--latency-runs", "2", "--threads", "1", "--json"};
    args << extra;
    auto res = runCli(args);
    if (res.exitCode != 0) qWarning("stderr: %s", res.err.c_str());
    if (res.exitCode != 0) return json();
    return json::parse(res.out, nullptr, false);
  }

 private slots:
  void initTestCase() {
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    model_ = QString::fromStdString(testutil::tempDir() + "/lenet5.onnx");
    QVERIFY(saveModel(g.value(), model_.toStdString()).isOk());
  }

  void elementReportKeys() {
    QString out = QString::fromStdString(testutil::tempDir() + "/element.onnx");
    bool haveData = loadDataset("fashion-mnist", {1, 0.f, 1.f}).isOk();
    QStringList extra;
    if (haveData) extra << "--data" << "fashion-mnist" << "--limit" << "200";
    json j = pruneJson(R"({"default": {"granularity": "element", "sparsity": 0.75}})", out, extra);
    QVERIFY(j.is_object());
    for (const char* side : {"before", "after"}) {
      for (const char* k : {"params", "nonzero_params", "flops", "size_bytes", "layers", "latency_ms", "storage"})
        QVERIFY2(j[side].contains(k), k);
      if (haveData) {
        QVERIFY(j[side].contains("accuracy"));
        QCOMPARE(j[side]["samples"].get<int64_t>(), int64_t(200));
      }
      QVERIFY(j[side]["latency_ms"].contains("median"));
      QVERIFY(j[side]["storage"].contains("8"));
    }
    int64_t params = j["before"]["params"].get<int64_t>();
    QCOMPARE(params, int64_t(61706));
    QCOMPARE(j["after"]["params"].get<int64_t>(), params);
    // 75% of the 61,470 weights are zero now (biases untouched).
    int64_t weights = 61706 - (6 + 16 + 120 + 84 + 10);
    QCOMPARE(j["before"]["nonzero_params"].get<int64_t>() - j["after"]["nonzero_params"].get<int64_t>(),
             int64_t(0.75 * 150 + 0.5) + int64_t(0.75 * 2400) + int64_t(0.75 * 48000) + int64_t(0.75 * 10080) +
                 int64_t(0.75 * 840));
    QVERIFY(weights > 0);
    QVERIFY(j["after"]["effective_flops"].get<double>() < 0.5 * j["before"]["flops"].get<double>());
    auto written = loadModel(out.toStdString());
    QVERIFY(written.isOk());
    QCOMPARE(written->nonzeroParamCount(), j["after"]["nonzero_params"].get<int64_t>());
  }

  void filterWritesSmallerModel() {
    QString out = QString::fromStdString(testutil::tempDir() + "/filter.onnx");
    json j = pruneJson(R"({"default": {"granularity": "filter", "sparsity": 0.5}})", out);
    QVERIFY(j.is_object());
    QVERIFY(j["structural"].get<bool>());
    QCOMPARE(QString::fromStdString(j["written_view"].get<std::string>()), QString("removed"));
    QVERIFY(j["after"]["params"].get<int64_t>() < j["before"]["params"].get<int64_t>() / 2);
    QCOMPARE(j["masked"]["params"].get<int64_t>(), j["before"]["params"].get<int64_t>());
    auto written = loadModel(out.toStdString());
    QVERIFY(written.isOk());
    QCOMPARE(written->paramCount(), j["after"]["params"].get<int64_t>());
    QCOMPARE(written->initializers.at("conv2.weight").dim(0), int64_t(8));
  }

  void quantizedWritesQdq() {
    QString out = QString::fromStdString(testutil::tempDir() + "/q8.onnx");
    json j = pruneJson(R"({"default": {"sparsity": 0.5}, "quantize": {"bits": 8}})", out);
    QVERIFY(j.is_object());
    auto written = loadModel(out.toStdString());
    QVERIFY(written.isOk());
    int dq = 0;
    for (const auto& n : written->nodes) dq += n.opType == "DequantizeLinear";
    QCOMPARE(dq, 5);
    QVERIFY(j["after"]["size_bytes"].get<int64_t>() * 3 < j["before"]["size_bytes"].get<int64_t>());
    // info counts the integer weights as the weights they are (it counted
    // only the float scales and biases: 472 of 61,706).
    auto info = runCli({"info", out, "--json"});
    QCOMPARE(info.exitCode, 0);
    json ji = json::parse(info.out, nullptr, false);
    QCOMPARE(ji["params"].get<int64_t>(), j["after"]["params"].get<int64_t>());
    QCOMPARE(ji["nonzero_params"].get<int64_t>(), j["after"]["nonzero_params"].get<int64_t>());
    // Pruning the quantized model again prunes it (it found no weight and
    // reported 0% sparsity), with a note.
    QString again = QString::fromStdString(testutil::tempDir() + "/q8-again.onnx");
    QString r = writeText("again.json", R"({"default": {"sparsity": 0.75}})");
    auto res = runCli({"prune", out, "--recipe", r, "--out", again, "--latency-runs", "0", "--json"});
    QCOMPARE(res.exitCode, 0);
    json ja = json::parse(res.out, nullptr, false);
    QVERIFY2(ja["after"]["nonzero_params"].get<int64_t>() * 2 < j["after"]["nonzero_params"].get<int64_t>(),
             res.out.c_str());
    QVERIFY2(res.out.find("stored as integers") != std::string::npos, res.out.c_str());
  }

  void refusesToOverwriteModel() {
    auto before = readFile(model_.toStdString());
    QString r = writeText("r.json", R"({"default": {"sparsity": 0.5}})");
    auto res = runCli({"prune", model_, "--recipe", r, "--out", model_});
    QCOMPARE(res.exitCode, 2);
    QVERIFY(res.err.find("overwrite") != std::string::npos);
    QCOMPARE(readFile(model_.toStdString()).value(), before.value());
  }

  void taylorWithoutTrainingDataIsRefused() {
    // Ranking by gradients of the evaluation split would leak test labels.
    QString r = writeText("taylor.json", R"({"default": {"granularity": "filter", "sparsity": 0.3, "criterion": "taylor"}})");
    QString out = QString::fromStdString(testutil::tempDir() + "/taylor.onnx");
    auto res = runCli({"prune", model_, "--recipe", r, "--out", out, "--data", "fashion-mnist", "--limit", "50"});
    QCOMPARE(res.exitCode, 2);
    QVERIFY2(res.err.find("taylor") != std::string::npos && res.err.find("--train-data") != std::string::npos,
             res.err.c_str());
    QVERIFY(!QFile::exists(out));
  }

  // ADMM, DNS and fine-tuning train on their own split: --data (the
  // evaluation split) is not it, and the message names the flag that is.
  void trainingMethodsWithoutTrainingDataAreRefused_data() {
    QTest::addColumn<QString>("recipe");
    QTest::addColumn<QString>("names");
    QTest::newRow("admm") << R"({"default": {"sparsity": 0.5}, "method": "admm"})"
                          << "admm";
    QTest::newRow("dns") << R"({"default": {"sparsity": 0.5}, "method": "dns"})"
                         << "dns";
    QTest::newRow("finetune") << R"({"default": {"sparsity": 0.5}, "finetune": {"epochs": 1}})"
                              << "finetune.epochs";
  }
  void trainingMethodsWithoutTrainingDataAreRefused() {
    QFETCH(QString, recipe);
    QFETCH(QString, names);
    QString r = writeText("trains.json", recipe.toStdString());
    QString out = QString::fromStdString(testutil::tempDir() + "/trains.onnx");
    auto res = runCli({"prune", model_, "--recipe", r, "--out", out, "--data", "fashion-mnist", "--limit", "50"});
    QCOMPARE(res.exitCode, 2);
    QVERIFY2(
        res.err.find(names.toStdString()) != std::string::npos && res.err.find("--train-data") != std::string::npos,
        res.err.c_str());
    QVERIFY(!QFile::exists(out));
  }

  void recipeErrorsExitTwo() {
    QString r = writeText("bad.json", R"({"default": {"sparsity": 1.5}})");
    auto res = runCli({"prune", model_, "--recipe", r, "--out", QString::fromStdString(testutil::tempDir() + "/x.onnx")});
    QCOMPARE(res.exitCode, 2);
    QVERIFY2(res.err.find("default.sparsity") != std::string::npos, res.err.c_str());
    QString r2 = writeText("bad2.json", R"({"layers": {"conv7": {"sparsity": 0.5}}})");
    res = runCli({"prune", model_, "--recipe", r2, "--out", QString::fromStdString(testutil::tempDir() + "/x.onnx")});
    QCOMPARE(res.exitCode, 2);
    QVERIFY2(res.err.find("conv7") != std::string::npos, res.err.c_str());
  }

  void sensitivityJson() {
    if (!loadDataset("fashion-mnist", {1, 0.f, 1.f}).isOk()) QSKIP("Fashion-MNIST not installed");
    QString out = QString::fromStdString(testutil::tempDir() + "/s.json");
    auto res = runCli({"sensitivity", model_, "--data", "fashion-mnist", "--limit", "100", "--sparsities", "0.5,0.9",
                       "--out", out, "--json"});
    QCOMPARE(res.exitCode, 0);
    json j = json::parse(res.out, nullptr, false);
    QVERIFY(j.is_object());
    QCOMPARE(j["layers"].size(), size_t(5));
    QCOMPARE(j["layers"][2]["points"].size(), size_t(2));
    QCOMPARE(j["layers"][2]["points"][1]["sparsity"].get<double>(), 0.9);
    double acc = j["layers"][2]["points"][0]["accuracy"].get<double>();
    QVERIFY(acc >= 0 && acc <= 1);
    QCOMPARE(j["samples"].get<int64_t>(), int64_t(100));
    auto saved = readFile(out.toStdString());
    QVERIFY(saved.isOk());
    QCOMPARE(json::parse(saved.value())["layers"].size(), size_t(5));
    res = runCli({"sensitivity", model_, "--data", "fashion-mnist", "--granularity", "blob"});
    QCOMPARE(res.exitCode, 2);
    QVERIFY(res.err.find("blob") != std::string::npos);
  }

  // sensitivity takes --threads like every other command; --workers, its
  // older name, still works, and the two given with different values are an
  // error naming both (--threads was an unknown option).
  void sensitivityTakesThreads() {
    const QStringList base = {"sensitivity",  model_, "--data",   "fashion-mnist", "--limit", "20",
                              "--sparsities", "0.5",  "--layers", "conv2",         "--json"};
    auto res = runCli(base + QStringList{"--threads", "1", "--workers", "2"});
    QVERIFY2(res.exitCode == 2, res.err.c_str());
    for (const char* want : {"error: ", "--threads 1", "--workers 2"})
      QVERIFY2(res.err.find(want) != std::string::npos, res.err.c_str());
    res = runCli(base + QStringList{"--threads", "-1"});
    QVERIFY2(res.exitCode == 2 && res.err.find("--threads") != std::string::npos, res.err.c_str());
    res = runCli(base + QStringList{"--workers", "300"});
    QVERIFY2(res.exitCode == 2 && res.err.find("--workers") != std::string::npos, res.err.c_str());
    res = runCli({"sensitivity", "--help"});
    QVERIFY2(res.exitCode == 0, res.err.c_str());
    QVERIFY2(res.out.find("--threads <N>") != std::string::npos, res.out.c_str());
    QVERIFY2(res.out.find("--workers <N>") != std::string::npos, res.out.c_str());
    if (!loadDataset("fashion-mnist", {1, 0.f, 1.f}).isOk()) QSKIP("Fashion-MNIST not installed");
    std::string first;
    for (const QStringList& threads : {QStringList{"--threads", "2"}, QStringList{"--workers", "2"},
                                       QStringList{"--threads", "1", "--workers", "1"}}) {
      res = runCli(base + threads);
      QVERIFY2(res.exitCode == 0, (threads.join(' ').toStdString() + ": " + res.err).c_str());
      json j = json::parse(res.out, nullptr, false);
      QVERIFY2(j.is_object() && j["layers"].size() == 1, res.out.c_str());
      const std::string points = j["layers"][0]["points"].dump();
      if (first.empty()) first = points;
      QCOMPARE(points, first);  // the same sweep whatever the thread count
    }
  }

  // A layer named twice is swept once, in the order first named.
  void sensitivityLayersAreDeduplicated() {
    if (!loadDataset("fashion-mnist", {1, 0.f, 1.f}).isOk()) QSKIP("Fashion-MNIST not installed");
    auto res = runCli({"sensitivity", model_, "--data", "fashion-mnist", "--limit", "20", "--sparsities", "0.5",
                       "--layers", "conv2,conv1,conv2,conv1", "--json"});
    QVERIFY2(res.exitCode == 0, res.err.c_str());
    json j = json::parse(res.out, nullptr, false);
    QVERIFY2(j.is_object(), res.out.c_str());
    QCOMPARE(j["layers"].size(), size_t(2));
    QCOMPARE(j["layers"][0]["name"].get<std::string>(), std::string("conv2"));
    QCOMPARE(j["layers"][1]["name"].get<std::string>(), std::string("conv1"));
    res = runCli({"sensitivity", model_, "--data", "fashion-mnist", "--limit", "20", "--sparsities", "0.5",
                  "--layers", "conv1,conv1"});
    QVERIFY2(res.exitCode == 0, res.err.c_str());
    size_t rows = 0;
    for (size_t at = res.out.find("conv1 "); at != std::string::npos; at = res.out.find("conv1 ", at + 1)) ++rows;
    QVERIFY2(rows == 1, res.out.c_str());
  }

  // Removing fc3 ([1,84] -> [N,10], a graph output with a symbolic batch) is
  // refused; the message shows the batch the same way on both shapes.
  void layerRemovalMessageShowsOneBatch() {
    QString r = writeText("fc3-layer.json", R"({"layers": {"fc3": {"granularity": "layer", "sparsity": 0.5}}})");
    auto res = runCli({"prune", model_, "--recipe", r, "--out", QString::fromStdString(testutil::tempDir() + "/x.onnx")});
    QCOMPARE(res.exitCode, 2);
    QVERIFY2(res.err.find("fc3") != std::string::npos, res.err.c_str());
    QVERIFY2(res.err.find("[1,10]") != std::string::npos, res.err.c_str());
    QVERIFY2(res.err.find("[1,84]") != std::string::npos, res.err.c_str());
    QVERIFY2(res.err.find("[-1,") == std::string::npos, res.err.c_str());
  }

  // The table prints whole layer names: tf2onnx's share long prefixes, and
  // cut to 20 characters these two both read "model/block_1/conv2d".
  void sensitivityTableKeepsLongNames() {
    if (!loadDataset("fashion-mnist", {1, 0.f, 1.f}).isOk()) QSKIP("Fashion-MNIST not installed");
    auto g = buildArchitecture("lenet5");
    QVERIFY(g.isOk());
    const std::map<std::string, std::string> rename = {{"conv1", "model/block_1/conv2d/BiasAdd"},
                                                       {"conv2", "model/block_1/conv2d_1/BiasAdd"}};
    for (auto& n : g->nodes)
      if (rename.count(n.name)) n.name = rename.at(n.name);
    const QString model = QString::fromStdString(testutil::tempDir() + "/long-names.onnx");
    QVERIFY(saveModel(g.value(), model.toStdString()).isOk());
    auto res = runCli({"sensitivity", model, "--data", "fashion-mnist", "--limit", "20", "--sparsities", "0.5",
                       "--layers", "model/block_1/conv2d/BiasAdd,model/block_1/conv2d_1/BiasAdd"});
    QVERIFY2(res.exitCode == 0, res.err.c_str());
    for (const auto& kv : rename)
      QVERIFY2(res.out.find(kv.second + " ") != std::string::npos, res.out.c_str());
  }
};

QTEST_APPLESS_MAIN(TestCliPrune)
#include "test_cli_prune.moc"
