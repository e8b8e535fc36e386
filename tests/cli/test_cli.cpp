// topiary-cli as a user runs it (the built binary through QProcess): the
// documented JSON keys with checked values, conformance outputs reproduced by
// `run`, and bad input answered by exit code 2 and one line "error: ..." that
// names the problem, within a time limit (never a crash or a hang).
#include <QProcess>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/cli_util.h"
#include "common/test_util.h"
#include "topiary/graph.h"
#include "topiary/kernel.h"
#include "topiary/onnx_io.h"

using namespace topiary;
namespace fs = std::filesystem;

namespace {

using clitest::CliResult;
using clitest::runCli;

std::string writeBytes(const std::string& name, const std::string& bytes) {
  std::string path = testutil::tempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// x[N,8] -> Gemm(W[4,8] transposed, b[4]) -> Relu -> y[N,4]: 36 params of which 34 nonzero.
Graph smallMlp(const std::string& op = "Relu") {
  Graph g;
  ValueInfo x;
  x.name = "x";
  x.hasShape = true;
  x.dims = {Dim{-1, "N"}, Dim{8, ""}};
  g.inputs.push_back(x);
  std::vector<float> w(32);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * static_cast<float>(i) - 0.71f;
  w[3] = 0.f;
  w[20] = 0.f;
  g.initializers["W"] = Tensor::fromVector<float>({4, 8}, w);
  g.initializers["b"] = Tensor::fromVector<float>({4}, {0.1f, -0.2f, 0.3f, 0.4f});
  Node gemm;
  gemm.name = "fc";
  gemm.opType = "Gemm";
  gemm.inputs = {"x", "W", "b"};
  gemm.outputs = {"h"};
  gemm.attrs["transB"] = Attribute::ofInt(1);
  Node act;
  act.name = "act";
  act.opType = op;
  act.inputs = {"h"};
  act.outputs = {"y"};
  g.nodes = {gemm, act};
  ValueInfo y;
  y.name = "y";
  y.hasShape = true;
  y.dims = {Dim{-1, "N"}, Dim{4, ""}};
  g.outputs.push_back(y);
  return g;
}

// The error contract: exit 2, stdout silent, stderr one line "error: ..." containing `mentions`.
void checkBadInput(const CliResult& r, const std::vector<std::string>& mentions) {
  QVERIFY2(r.finished, "topiary-cli did not finish in time");
  QVERIFY2(!r.crashed, ("topiary-cli crashed; stderr: " + r.err).c_str());
  QVERIFY2(r.exitCode == 2, ("exit code " + std::to_string(r.exitCode) + ", stderr: " + r.err).c_str());
  QVERIFY2(r.err.rfind("error: ", 0) == 0, ("stderr does not start with 'error: ': " + r.err).c_str());
  QVERIFY2(r.err.find('\n') == r.err.size() - 1, ("stderr is not one line: " + r.err).c_str());
  for (const auto& m : mentions) QVERIFY2(r.err.find(m) != std::string::npos, ("'" + m + "' not named in: " + r.err).c_str());
}

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
  std::string mlpPath_;

 private slots:
  void initTestCase() {
    mlpPath_ = testutil::tempDir() + "/mlp.onnx";
    Graph g = smallMlp();
    QVERIFY(g.validate().isOk());
    QVERIFY(saveModel(g, mlpPath_).isOk());
  }

  void infoJsonHasDocumentedKeys() {
    auto r = runCli({"info", QString::fromStdString(mlpPath_), "--json"});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.c_str());
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    QVERIFY2(j.is_object(), r.out.c_str());
    QCOMPARE(j["params"].get<int64_t>(), int64_t(36));
    QCOMPARE(j["nonzero_params"].get<int64_t>(), int64_t(34));
    // Gemm at batch 1: 2*4*8 multiply-adds plus 4 bias additions.
    QVERIFY(j["flops"].get<double>() >= 64.0);
    auto g = loadModel(mlpPath_);
    QVERIFY(g.isOk());
    QCOMPARE(j["size_bytes"].get<int64_t>(), static_cast<int64_t>(serializeModel(g.value())->size()));
    QCOMPARE(j["layers"].size(), size_t(2));
    QCOMPARE(j["layers"][0]["name"].get<std::string>(), std::string("fc"));
    QCOMPARE(j["layers"][0]["op"].get<std::string>(), std::string("Gemm"));
    QCOMPARE(j["layers"][0]["params"].get<int64_t>(), int64_t(36));
    QCOMPARE(j["layers"][1]["params"].get<int64_t>(), int64_t(0));
    int64_t layerSum = 0;
    for (const auto& l : j["layers"]) layerSum += l["params"].get<int64_t>();
    QCOMPARE(layerSum, j["params"].get<int64_t>());
  }

  void infoParamsEqualInitializerSizesOnConformanceModel() {
    std::string model = std::string(testutil::kOnnxTestData) + "/pytorch-converted/test_Conv2d/model.onnx";
    auto g = loadModel(model);
    if (!g || !OpRegistry::instance().claims("Conv")) QSKIP("Conv is not supported yet");
    int64_t expected = 0;
    for (const auto& kv : g->initializers) expected += kv.second.numel();
    auto r = runCli({"info", QString::fromStdString(model), "--json"});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.c_str());
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    QVERIFY(expected > 0);
    QCOMPARE(j["params"].get<int64_t>(), expected);
  }

  // A model whose input carries the shape Expand broadcasts to: zeros are
  // not a valid shape, so FLOPs cannot be measured, but info still describes
  // the model (exit 0) and says why FLOPs are missing (it used to fail).
  void infoWithoutFlopsWhenZerosAreNoValidInput() {
    std::string model = std::string(testutil::kOnnxTestData) + "/simple/test_expand_shape_model1/model.onnx";
    auto r = runCli({"info", QString::fromStdString(model), "--json"});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.c_str());
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    QVERIFY(!j.is_discarded());
    QVERIFY(j.contains("flops_unknown"));
    QVERIFY2(j["flops_unknown"].get<std::string>().find("Expand") != std::string::npos, r.out.c_str());
    QCOMPARE(j["layers"].size(), size_t(1));
    QCOMPARE(j["inputs"].size(), size_t(2));
    auto text = runCli({"info", QString::fromStdString(model)});
    QVERIFY2(text.finished && text.exitCode == 0, text.err.c_str());
    QVERIFY2(text.out.find("FLOPs and output shapes unknown") != std::string::npos, text.out.c_str());
    // A model that runs on zeros has no such key.
    auto ok = runCli({"info", QString::fromStdString(mlpPath_), "--json"});
    QVERIFY(!nlohmann::json::parse(ok.out, nullptr, false).contains("flops_unknown"));
  }

  void runReproducesConformanceOutputs() {
    int reproduced = 0;
    const char* cases[] = {"node/test_relu", "node/test_gemm_all_attributes", "node/test_flatten_axis1",
                           "node/test_flatten_negative_axis1", "pytorch-converted/test_Conv2d",
                           "node/test_maxpool_2d_default", "node/test_softmax_axis_1"};
    for (const char* c : cases) {
      std::string dir = std::string(testutil::kOnnxTestData) + "/" + c;
      auto g = loadModel(dir + "/model.onnx");
      if (!g) continue;
      bool claimed = true;
      for (const auto& n : g->nodes) claimed &= OpRegistry::instance().claims(n.opType);
      if (!claimed) continue;
      std::string outDir = testutil::tempDir() + "/run_" + std::to_string(reproduced);
      QStringList args{"run", QString::fromStdString(dir + "/model.onnx"), "--output-dir", QString::fromStdString(outDir)};
      for (size_t i = 0; i < g->inputs.size(); ++i)
        args << "--input"
             << QString::fromStdString(g->inputs[i].name + "=" + dir + "/test_data_set_0/input_" + std::to_string(i) + ".pb");
      auto r = runCli(args);
      QVERIFY2(r.finished && r.exitCode == 0, (std::string(c) + ": " + r.err).c_str());
      for (size_t i = 0; i < g->outputs.size(); ++i) {
        auto got = loadTensorProto(outDir + "/output_" + std::to_string(i) + ".pb");
        auto want = loadTensorProto(dir + "/test_data_set_0/output_" + std::to_string(i) + ".pb");
        QVERIFY2(got.isOk(), got.status().message().c_str());
        QVERIFY(want.isOk());
        QCOMPARE(got->name, g->outputs[i].name);
        std::string why;
        QVERIFY2(testutil::allClose(got->tensor, want->tensor, 1e-4, 1e-5, &why), (std::string(c) + ": " + why).c_str());
      }
      ++reproduced;
    }
    QVERIFY2(reproduced >= 3, ("only " + std::to_string(reproduced) + " conformance cases could run").c_str());
  }

  // An input name the model does not have, or one given twice, is refused
  // naming the model's inputs (the first was reported as the real input
  // missing; the second silently took the last file).
  void runRefusesUnknownAndRepeatedInputs() {
    const std::string dir = std::string(testutil::kOnnxTestData) + "/node/test_relu";
    if (!QFileInfo::exists(QString::fromStdString(dir + "/model.onnx"))) QSKIP("ONNX test data not installed");
    const QString model = QString::fromStdString(dir + "/model.onnx");
    const QString in = QString::fromStdString(dir + "/test_data_set_0/input_0.pb");
    const QString out = QString::fromStdString(testutil::tempDir() + "/run_inputs");
    checkBadInput(runCli({"run", model, "--input", "wrong=" + in, "--output-dir", out}), {"'wrong'", "inputs: x"});
    checkBadInput(runCli({"run", model, "--input", "x=" + in, "--input", "x=" + in, "--output-dir", out}),
                  {"'x'", "twice"});
    auto ok = runCli({"run", model, "--input", in, "--output-dir", out});  // a bare file: the name inside it
    QVERIFY2(ok.exitCode == 0, ok.err.c_str());
    // --threads is checked as every other command checks it (run took "abc"
    // and "-3" as "every core").
    for (const char* t : {"abc", "-3"})
      checkBadInput(runCli({"run", model, "--input", in, "--output-dir", out, "--threads", t}), {"--threads"});
  }

  // `run` never writes an output over its model or an input file, however the
  // folder is spelled: feeding DIR/output_0.pb back with --output-dir DIR
  // replaced the input with the output, exit 0.
  void runNeverOverwritesItsInputs() {
    const std::string dir = std::string(testutil::kOnnxTestData) + "/node/test_relu";
    if (!QFileInfo::exists(QString::fromStdString(dir + "/model.onnx"))) QSKIP("ONNX test data not installed");
    const std::string work = testutil::tempDir() + "/run_chain";
    fs::create_directories(work + "/sub");
    const std::string inBytes = readBytes(dir + "/test_data_set_0/input_0.pb");
    const std::string modelBytes = readBytes(dir + "/model.onnx");
    const std::string in = writeBytes("run_chain/output_0.pb", inBytes);
    const std::string model = writeBytes("run_chain/model.onnx", modelBytes);
    checkBadInput(runCli({"run", QString::fromStdString(model), "--input", QString::fromStdString(in), "--output-dir",
                          QString::fromStdString(work + "/sub/..")}),
                  {"output_0.pb", "input file", "refusing to overwrite"});
    QVERIFY(readBytes(in) == inBytes);
    const std::string modelAsOutput = writeBytes("run_chain/sub/output_0.pb", modelBytes);
    checkBadInput(runCli({"run", QString::fromStdString(modelAsOutput), "--input", "x=" + QString::fromStdString(in),
                          "--output-dir", QString::fromStdString(work + "/sub")}),
                  {"output_0.pb", "is the model"});
    QVERIFY(readBytes(modelAsOutput) == modelBytes);
    // Another folder is fine, and the output there is the reference output.
    auto ok = runCli({"run", QString::fromStdString(model), "--input", QString::fromStdString(in), "--output-dir",
                      QString::fromStdString(work + "/out")});
    QVERIFY2(ok.exitCode == 0, ok.err.c_str());
    auto got = loadTensorProto(work + "/out/output_0.pb");
    auto want = loadTensorProto(dir + "/test_data_set_0/output_0.pb");
    QVERIFY(got.isOk() && want.isOk());
    QVERIFY(testutil::allClose(got->tensor, want->tensor, 1e-6, 1e-6));
  }

  // train, sensitivity and prune never write --out over a file of their idx:
  // data (train --out naming the labels file trained, then replaced it with
  // the model, exit 0; sensitivity --out replaced the images).
  void outputNeverOverwritesDataFiles() {
    std::string images("\0\0\x08\x03\0\0\0\x04\0\0\0\x1c\0\0\0\x1c", 16), labels("\0\0\x08\x01\0\0\0\x04", 8);
    for (int i = 0; i < 4 * 28 * 28; ++i) images += static_cast<char>((i * 37) % 256);
    labels += std::string("\x01\x02\x03\x04", 4);
    const std::string img = writeBytes("data_images.idx", images), lab = writeBytes("data_labels.idx", labels);
    const QString spec = QString::fromStdString("idx:" + img + "," + lab);
    const QString lenet = QString::fromStdString(testutil::sourcePath("resources/models/lenet5.onnx"));
    const std::string recipe = writeBytes("data_recipe.json", R"({"default": {"sparsity": 0.5}})");
    checkBadInput(runCli({"train", "--arch", "lenet5", "--data", spec, "--epochs", "1", "--threads", "1", "--out",
                          QString::fromStdString(testutil::tempDir() + "/./data_labels.idx")}),
                  {"--out", "data file", "--data", "refusing to overwrite"});
    checkBadInput(runCli({"sensitivity", lenet, "--data", spec, "--sparsities", "0.5", "--layers", "fc3", "--out",
                          QString::fromStdString(img)}),
                  {"--out", "data file", "--data"});
    checkBadInput(runCli({"prune", lenet, "--recipe", QString::fromStdString(recipe), "--data", spec, "--out",
                          QString::fromStdString(img)}),
                  {"--out", "data file", "--data"});
    checkBadInput(runCli({"prune", lenet, "--recipe", QString::fromStdString(recipe), "--train-data", spec, "--out",
                          QString::fromStdString(lab)}),
                  {"--out", "data file", "--train-data"});
    QVERIFY(readBytes(img) == images);
    QVERIFY(readBytes(lab) == labels);
    // The same data with an output elsewhere works.
    auto ok = runCli({"train", "--arch", "lenet5", "--data", spec, "--epochs", "1", "--threads", "1", "--out",
                      QString::fromStdString(testutil::tempDir() + "/data_model.onnx")});
    QVERIFY2(ok.exitCode == 0, ok.err.c_str());
    QVERIFY(loadModel(testutil::tempDir() + "/data_model.onnx").isOk());
  }

  // An input of an element type the engine has no kernels for is named
  // (bfloat16 read as "undefined", and run said "expects undefined").
  void unhandledElementTypeIsNamed() {
    const std::string dir = std::string(testutil::kOnnxTestData) + "/node/test_cast_BFLOAT16_to_FLOAT";
    if (!QFileInfo::exists(QString::fromStdString(dir + "/model.onnx"))) QSKIP("ONNX test data not installed");
    const QString model = QString::fromStdString(dir + "/model.onnx");
    auto info = runCli({"info", model});
    QCOMPARE(info.exitCode, 0);
    QVERIFY2(info.out.find("input bfloat16 [3,4]") != std::string::npos, info.out.c_str());
    checkBadInput(runCli({"run", model, "--input", QString::fromStdString(dir + "/test_data_set_0/input_0.pb"),
                          "--output-dir", QString::fromStdString(testutil::tempDir() + "/bf16")}),
                  {"'input' is bfloat16", "does not handle"});
  }

  void benchJsonHasLatencies() {
    auto r = runCli({"bench", QString::fromStdString(mlpPath_), "--json", "--threads", "1", "--batch", "3",
                     "--warmup", "2", "--runs", "7"});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.c_str());
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    QVERIFY2(j.is_object(), r.out.c_str());
    QCOMPARE(j["threads"].get<int>(), 1);
    QCOMPARE(j["batch"].get<int>(), 3);
    QCOMPARE(j["runs"].get<int>(), 7);
    double mn = j["latency_ms"]["min"], med = j["latency_ms"]["median"], mx = j["latency_ms"]["max"];
    QVERIFY(mn > 0);
    QVERIFY(mn <= med && med <= mx);
    QVERIFY(mx < 10000);  // a 36-parameter model
    QVERIFY(!j.contains("ort"));
  }

  void benchComparesWithOrt() {
    if (!fs::exists(testutil::sourcePath("node_modules/onnxruntime-node/package.json")))
      QSKIP("node_modules/onnxruntime-node is missing");
    auto r = runCli({"bench", QString::fromStdString(mlpPath_), "--json", "--threads", "1", "--runs", "5",
                     "--compare-ort"}, 120000);
    QVERIFY2(r.finished && r.exitCode == 0, r.err.c_str());
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    double ours = j["latency_ms"]["median"], ort = j["ort"]["latency_ms"]["median"];
    QVERIFY(ort > 0 && ours > 0);
    QVERIFY(j["ort"]["latency_ms"]["min"].get<double>() <= ort);
    QVERIFY(std::fabs(j["ratio"].get<double>() - ours / ort) < 1e-9 * (ours / ort));
  }

  void benchRejectsBadValues_data() {
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("value");
    QTest::newRow("batch 0") << "--batch" << "0";
    QTest::newRow("threads -1") << "--threads" << "-1";
    QTest::newRow("runs 0") << "--runs" << "0";
    QTest::newRow("warmup x") << "--warmup" << "x";
  }
  void benchRejectsBadValues() {
    QFETCH(QString, option);
    QFETCH(QString, value);
    auto r = runCli({"bench", QString::fromStdString(mlpPath_), option, value});
    checkBadInput(r, {option.toStdString(), "'" + value.toStdString() + "'"});
  }

  void truncatedModelIsRejected() {
    std::string bytes = readBytes(mlpPath_);
    std::string path = writeBytes("truncated.onnx", bytes.substr(0, bytes.size() / 2));
    checkBadInput(runCli({"info", QString::fromStdString(path)}), {"truncated.onnx", "truncated or corrupt"});
  }

  void randomBytesAreRejected() {
    std::mt19937 rng(7);
    std::string bytes(4096, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string path = writeBytes("random.onnx", bytes);
    for (const char* cmd : {"info", "bench"})
      checkBadInput(runCli({cmd, QString::fromStdString(path)}), {"random.onnx"});
  }

  void unsupportedOperatorNamesOpAndNode() {
    Graph g = smallMlp("FrobnicateXyz");
    QVERIFY(g.validate().isOk());
    std::string path = testutil::tempDir() + "/unsupported.onnx";
    QVERIFY(saveModel(g, path).isOk());
    checkBadInput(runCli({"info", QString::fromStdString(path)}), {"FrobnicateXyz", "act"});
    checkBadInput(runCli({"bench", QString::fromStdString(path)}), {"FrobnicateXyz", "act"});
  }

  void wrongInputShapeIsRejected() {
    Tensor bad(DType::Float, {2, 5});  // the model wants [N,8]
    std::string in = testutil::tempDir() + "/bad_input.pb";
    QVERIFY(saveTensorProto(bad, "x", in).isOk());
    auto r = runCli({"run", QString::fromStdString(mlpPath_), "--input", QString::fromStdString("x=" + in),
                     "--output-dir", QString::fromStdString(testutil::tempDir() + "/bad_out")});
    checkBadInput(r, {"'x'", "[N,8]", "[2,5]"});
  }

  void missingFileIsRejected() {
    std::string path = testutil::tempDir() + "/does_not_exist.onnx";
    for (const char* cmd : {"info", "bench"})
      checkBadInput(runCli({cmd, QString::fromStdString(path)}), {"does_not_exist.onnx"});
  }

  void unknownCommandAndOptionAreRejected() {
    checkBadInput(runCli({"frobnicate"}), {"frobnicate"});
    checkBadInput(runCli({"info", QString::fromStdString(mlpPath_), "--no-such-option"}), {"no-such-option"});
    checkBadInput(runCli({"bench"}), {"MODEL"});
  }

  // A command's --help says what to type: "topiary-cli sensitivity ...", not
  // the path the binary was started from (Qt's default usage line).
  void commandHelpNamesTheCommand_data() {
    QTest::addColumn<QString>("command");
    for (const char* c : {"info", "run", "train", "eval", "prune", "sensitivity", "report", "bench"})
      QTest::newRow(c) << QString(c);
  }
  void commandHelpNamesTheCommand() {
    QFETCH(QString, command);
    auto r = runCli({command, "--help"});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.c_str());
    const std::string usage = "Usage: topiary-cli " + command.toStdString() + " [options]";
    QVERIFY2(r.out.rfind(usage, 0) == 0, r.out.c_str());
    QVERIFY2(r.out.find(TOPIARY_CLI) == std::string::npos, r.out.c_str());
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
