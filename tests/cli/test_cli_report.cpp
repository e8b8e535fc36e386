// topiary-cli report as a user runs it: the folder holds the charts (real
// PNGs of the expected size), the HTML names the recipe, the verdict's
// storage numbers equal `topiary-cli prune --json` on the verdict's own
// recipe, and bad input exits with code 2.
#include <QFile>
#include <QProcess>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "common/test_util.h"
#include "topiary/file_util.h"

using json = nlohmann::json;

namespace {

using clitest::CliResult;
using clitest::runCli;

QString writeText(const std::string& name, const std::string& text) {
  const std::string path = testutil::tempDir() + "/" + name;
  std::ofstream(path) << text;
  return QString::fromStdString(path);
}

// Width and height from a PNG's IHDR chunk (0 when the bytes are not a PNG).
QSize pngSize(const std::string& bytes) {
  if (bytes.size() < 24 || bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0 ||
      bytes.compare(12, 4, "IHDR"))
    return {};
  auto be = [&](size_t o) {
    return int((uint8_t(bytes[o]) << 24) | (uint8_t(bytes[o + 1]) << 16) | (uint8_t(bytes[o + 2]) << 8) |
               uint8_t(bytes[o + 3]));
  };
  return {be(16), be(20)};
}

}  // namespace

class TestCliReport : public QObject {
  Q_OBJECT
  QString model_ = QStringLiteral(TOPIARY_SOURCE_DIR "/resources/models/lenet5.onnx");

 private slots:
  void writesFolderAndMatchesPrune();
  void quantizedRecipeSizeIsTheExportedFile();
  void nmStorageMatchesPrune();
  void perTensorRecipeIsPricedPerTensor();
  void badInput();
};

void TestCliReport::writesFolderAndMatchesPrune() {
  if (!QFile::exists(model_)) QSKIP("resources/models/lenet5.onnx missing");
  const QString recipe = writeText(
      "half-element.json", R"({"default": {"granularity": "element", "sparsity": 0.5}, "method": "magnitude"})");
  const QString out = QString::fromStdString(testutil::tempDir() + "/report");
  auto r = runCli({"report", model_, "--recipe", recipe, "--data", "fashion-mnist", "--limit", "300", "--out", out,
                   "--sparsities", "0.3,0.9", "--latency-runs", "3", "--tolerance", "0.02", "--json"});
  QVERIFY2(r.exitCode == 0, r.err.c_str());
  const json j = json::parse(r.out);

  // Before/after: half of the prunable weights are gone, accuracy measured on 300 samples.
  QCOMPARE(j["after"]["samples"].get<int>(), 300);
  const double beforeNz = j["before"]["nonzero_params"].get<double>(),
               afterNz = j["after"]["nonzero_params"].get<double>();
  QVERIFY2(afterNz < 0.55 * beforeNz && afterNz > 0.45 * beforeNz, j["after"]["nonzero_params"].dump().c_str());

  // Sensitivity: one point per requested sparsity, and pruning 90% of some layer costs accuracy.
  bool falls = false;
  for (const auto& l : j["sensitivity"]["layers"]) {
    if (l.contains("skipped") && !l["skipped"].get<std::string>().empty()) continue;
    const json& pts = l["points"];
    QCOMPARE(pts.size(), size_t(2));
    QCOMPARE(pts[0]["sparsity"].get<double>(), 0.3);
    QCOMPARE(pts[1]["sparsity"].get<double>(), 0.9);
    falls = falls || pts[1]["accuracy"].get<double>() < pts[0]["accuracy"].get<double>() - 0.02;
  }
  QVERIFY(falls);

  // The folder: charts are PNGs of the size the renderer draws, the HTML names the recipe.
  for (const char* f : {"index.html", "tradeoff.png", "sensitivity.png", "storage.png", "recipe.json", "report.json"})
    QVERIFY2(QFile::exists(out + "/" + f), f);
  QCOMPARE(pngSize(topiary::readFile((out + "/tradeoff.png").toStdString()).value()), QSize(900, 520));
  QCOMPARE(pngSize(topiary::readFile((out + "/sensitivity.png").toStdString()).value()), QSize(900, 520));
  QCOMPARE(pngSize(topiary::readFile((out + "/storage.png").toStdString()).value()), QSize(1000, 520));
  const std::string html = topiary::readFile((out + "/index.html").toStdString()).value();
  QVERIFY(html.find("half-element.json") != std::string::npos);
  QVERIFY(html.find("&quot;granularity&quot;: &quot;element&quot;") != std::string::npos);
  QVERIFY(html.find(j["verdict"]["verdict"].get<std::string>().substr(0, 20)) != std::string::npos);

  // The verdict's storage bars equal `prune --json` on the verdict's unstructured recipe.
  const json& v = j["verdict"];
  json unstructured;
  for (const auto& c : v["candidates"])
    if (c["name"] == "unstructured") unstructured = c;
  QVERIFY(!unstructured.is_null());
  QVERIFY(unstructured["accuracy"].get<double>() >= v["dense_accuracy"].get<double>() - 0.02 - 1e-9);
  const QString candRecipe = writeText("unstructured.json", unstructured["recipe"].dump());
  auto pr = runCli({"prune", model_, "--recipe", candRecipe, "--out",
                    QString::fromStdString(testutil::tempDir() + "/u.onnx"), "--latency-runs", "0", "--json"});
  QVERIFY2(pr.exitCode == 0, pr.err.c_str());
  const json pj = json::parse(pr.out);
  int compared = 0;
  for (const auto& bar : v["bars"]) {
    if (bar["candidate"] != "unstructured") continue;
    const std::string bits = std::to_string(bar["bits"].get<int>());
    const json& f = pj["after"]["storage"][bits]["formats"][bar["format"].get<std::string>()];
    QCOMPARE(bar["index_bytes"].get<double>(), f["index_bits"].get<double>() / 8.0);
    QCOMPARE(bar["bytes"].get<double>(), f["bytes"].get<double>());
    ++compared;
  }
  QCOMPARE(compared, 12);  // dense, bitmask, csr, relative index at 32, 8 and 4 bits
  QVERIFY(!v["verdict"].get<std::string>().empty());
}

// A quantizing recipe exports int8 codes: the report's "ONNX size" after the
// recipe is that file's, as `prune` writes it (it gave the float model's size,
// 242 KB for LeNet-5 at 8 bits against the 64 KB prune wrote).
void TestCliReport::quantizedRecipeSizeIsTheExportedFile() {
  if (!QFile::exists(model_)) QSKIP("resources/models/lenet5.onnx missing");
  const QString recipe = writeText(
      "quantized.json",
      R"({"default": {"granularity": "element", "sparsity": 0.8}, "quantize": {"bits": 8, "per_channel": true}})");
  const QString out = QString::fromStdString(testutil::tempDir() + "/report-q8");
  auto r = runCli({"report", model_, "--recipe", recipe, "--data", "fashion-mnist", "--limit", "100", "--out", out,
                   "--no-sensitivity", "--no-verdict", "--latency-runs", "2", "--json"});
  QVERIFY2(r.exitCode == 0, r.err.c_str());
  const json j = json::parse(r.out);
  const std::string written = testutil::tempDir() + "/q8.onnx";
  auto pr = runCli({"prune", model_, "--recipe", recipe, "--out", QString::fromStdString(written), "--data",
                    "fashion-mnist", "--limit", "100", "--latency-runs", "0", "--json"});
  QVERIFY2(pr.exitCode == 0, pr.err.c_str());
  const json pj = json::parse(pr.out);
  const auto fileSize = static_cast<int64_t>(topiary::readFile(written).value().size());
  QCOMPARE(pj["after"]["size_bytes"].get<int64_t>(), fileSize);
  QCOMPARE(j["after"]["size_bytes"].get<int64_t>(), fileSize);
  QVERIFY(fileSize < j["before"]["size_bytes"].get<int64_t>() / 3);
  QCOMPARE(j["after"]["accuracy"].get<double>(), pj["after"]["accuracy"].get<double>());
  QVERIFY(j["after"]["latency_ms"]["median"].get<double>() > 0);
}

// The report prices N:M storage at the recipe's own pattern, as prune does
// (a 1:4 recipe was priced as 2:4 there: twice the bytes prune reported).
void TestCliReport::nmStorageMatchesPrune() {
  if (!QFile::exists(model_)) QSKIP("resources/models/lenet5.onnx missing");
  const std::vector<std::pair<std::string, std::string>> recipes = {
      {"nm-1-4.json", R"({"default": {"granularity": "nm", "n": 1, "m": 4}})"},
      {"nm-fc1.json",
       R"({"default": {"granularity": "element", "sparsity": 0.5}, "layers": {"fc1": {"granularity": "nm", "n": 1, "m": 8}}})"}};
  for (const auto& [name, text] : recipes) {
    const QString recipe = writeText(name, text);
    auto r = runCli({"report", model_, "--recipe", recipe, "--data", "fashion-mnist", "--limit", "50", "--out",
                     QString::fromStdString(testutil::tempDir() + "/report-" + name), "--no-sensitivity",
                     "--no-verdict", "--latency-runs", "0", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.c_str());
    auto pr =
        runCli({"prune", model_, "--recipe", recipe, "--out",
                QString::fromStdString(testutil::tempDir() + "/" + name + ".onnx"), "--latency-runs", "0", "--json"});
    QVERIFY2(pr.exitCode == 0, pr.err.c_str());
    const json rep = json::parse(r.out)["after"]["storage"], pru = json::parse(pr.out)["after"]["storage"];
    for (const char* bits : {"32", "8", "4"}) {
      const json &a = rep[bits]["formats"]["nm"], &b = pru[bits]["formats"]["nm"];
      QVERIFY2(a == b, (name + " at " + bits + " bits: report " + a.dump() + ", prune " + b.dump()).c_str());
    }
  }
}

// A recipe quantizing with one scale per tensor is priced so, by prune and
// report alike: 32 scale bits per weight tensor, not one scale per channel.
void TestCliReport::perTensorRecipeIsPricedPerTensor() {
  if (!QFile::exists(model_)) QSKIP("resources/models/lenet5.onnx missing");
  int64_t scaleBits[2] = {0, 0};
  for (int perChannel = 0; perChannel < 2; ++perChannel) {
    const std::string name = perChannel ? "q8-channel.json" : "q8-tensor.json";
    const QString recipe =
        writeText(name, std::string(R"({"default": {"granularity": "element", "sparsity": 0.5},)") +
                            R"( "quantize": {"bits": 8, "per_channel": )" + (perChannel ? "true" : "false") + "}}");
    auto pr =
        runCli({"prune", model_, "--recipe", recipe, "--out",
                QString::fromStdString(testutil::tempDir() + "/" + name + ".onnx"), "--latency-runs", "0", "--json"});
    QVERIFY2(pr.exitCode == 0, pr.err.c_str());
    auto r = runCli({"report", model_, "--recipe", recipe, "--data", "fashion-mnist", "--limit", "50", "--out",
                     QString::fromStdString(testutil::tempDir() + "/report-" + name), "--no-sensitivity",
                     "--no-verdict", "--latency-runs", "0", "--json"});
    QVERIFY2(r.exitCode == 0, r.err.c_str());
    const json pru = json::parse(pr.out)["after"]["storage"]["8"], rep = json::parse(r.out)["after"]["storage"]["8"];
    QCOMPARE(pru["per_channel"].get<bool>(), perChannel == 1);
    QVERIFY2(pru["formats"] == rep["formats"], (pru["formats"].dump() + " against " + rep["formats"].dump()).c_str());
    scaleBits[perChannel] = pru["formats"]["dense"]["scale_bits"].get<int64_t>();
  }
  QCOMPARE(scaleBits[0], int64_t{32 * 5});  // lenet5: conv1, conv2, fc1, fc2, fc3
  QVERIFY2(scaleBits[1] > scaleBits[0], std::to_string(scaleBits[1]).c_str());
}

void TestCliReport::badInput() {
  auto r = runCli({"report", model_, "--data", "fashion-mnist", "--out", "x"});
  QCOMPARE(r.exitCode, 2);
  QVERIFY(r.err.find("--recipe") != std::string::npos);
  r = runCli({"report", model_, "--recipe", "/nonexistent/r.json", "--data", "fashion-mnist", "--out",
              QString::fromStdString(testutil::tempDir() + "/r2")});
  QCOMPARE(r.exitCode, 2);
  QVERIFY(r.err.find("/nonexistent/r.json") != std::string::npos);
  const QString recipe = writeText("r.json", R"({"default": {"granularity": "element", "sparsity": 0.5}})");
  r = runCli({"report", model_, "--recipe", recipe, "--data", "fashion-mnist", "--out", "o", "--tolerance", "2"});
  QCOMPARE(r.exitCode, 2);
  QVERIFY(r.err.find("--tolerance") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestCliReport)
#include "test_cli_report.moc"
