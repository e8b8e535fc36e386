// The reliability promises of topiary-cli, checked on the built binary:
//  - every hostile-input class (tests/fuzz/hostile_models.h) is answered by
//    `info` and by `prune` with exit code 2 and one line naming the problem,
//    and `prune` writes nothing;
//  - a bad recipe names the offending key;
//  - the source model is never written, whichever path spelling --out uses;
//  - kill -9 at random moments of an export leaves the old output or the new
//    one (byte-identical to an uninterrupted run), never a torn file, and no
//    temporary file behind.
#include <QElapsedTimer>
#include <QProcess>
#include <QThread>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "cli/cli_util.h"
#include "common/test_util.h"
#include "fuzz/hostile_models.h"
#include "topiary/file_util.h"
#include "topiary/graph.h"
#include "topiary/onnx_io.h"

using namespace topiary;
namespace fs = std::filesystem;

namespace {

using clitest::CliResult;
using clitest::runCli;

std::string readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

QString q(const std::string& s) { return QString::fromStdString(s); }

// The error contract: exit 2, stderr one line "error: ..." containing `mentions`.
std::string badInputProblem(const CliResult& r, const std::vector<std::string>& mentions) {
  if (!r.finished) return "did not finish in time";
  if (r.crashed) return "crashed; stderr: " + r.err;
  if (r.exitCode != 2) return "exit code " + std::to_string(r.exitCode) + ", stderr: " + r.err;
  if (r.err.rfind("error: ", 0) != 0) return "stderr does not start with 'error: ': " + r.err;
  if (r.err.find('\n') != r.err.size() - 1) return "stderr is not one line: " + r.err;
  for (const auto& m : mentions)
    if (r.err.find(m) == std::string::npos) return "'" + m + "' not named in: " + r.err;
  return "";
}

// x[N,K] -> Gemm(W[M,K] transposed, b[M]) -> y[N,M] with deterministic weights.
Graph gemmModel(int64_t k, int64_t m) {
  Graph g;
  ValueInfo x;
  x.name = "x";
  x.hasShape = true;
  x.dims = {Dim{1, ""}, Dim{k, ""}};
  g.inputs.push_back(x);
  Tensor w(DType::Float, {m, k});
  float* pw = w.data<float>();
  uint32_t s = 12345;
  for (int64_t i = 0; i < w.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    pw[i] = static_cast<float>(s >> 8) / 16777216.f - 0.5f;
  }
  g.initializers["W"] = std::move(w);
  g.initializers["b"] = Tensor(DType::Float, {m});
  Node gemm;
  gemm.name = "fc";
  gemm.opType = "Gemm";
  gemm.inputs = {"x", "W", "b"};
  gemm.outputs = {"y"};
  gemm.attrs["transB"] = Attribute::ofInt(1);
  g.nodes = {gemm};
  ValueInfo y;
  y.name = "y";
  y.hasShape = true;
  y.dims = {Dim{1, ""}, Dim{m, ""}};
  g.outputs.push_back(y);
  return g;
}

// Files in `dir` other than `keep`.
std::vector<std::string> strayFiles(const std::string& dir, const std::set<std::string>& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (!keep.count(e.path().filename().string())) out.push_back(e.path().filename().string());
  return out;
}

// True once process `pid` holds open a file in `dir` (the export's output):
// /proc/PID/fd links name it, as "/dir/#123 (deleted)" for an unnamed
// O_TMPFILE or "/dir/.out.onnx.tmp-..." for a named temp file.
bool writingInto(qint64 pid, const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code ec2;
    fs::path target = fs::read_symlink(e.path(), ec2);
    std::string name = target.filename().string();
    if (!ec2 && target.parent_path().string() == dir && !name.empty() && (name[0] == '#' || name[0] == '.'))
      return true;
  }
  return false;
}

}  // namespace

class TestCliReliability : public QObject {
  Q_OBJECT
  std::string dir_, model_, recipe_;

 private slots:
  void initTestCase() {
    dir_ = testutil::tempDir();
    model_ = dir_ + "/model.onnx";
    QVERIFY(saveModel(gemmModel(16, 8), model_).isOk());
    recipe_ = dir_ + "/recipe.json";
    writeBytes(recipe_, R"({"default": {"granularity": "element", "sparsity": 0.5}})");
  }

  void hostileInputsExitTwoWithTheirMessage_data() {
    QTest::addColumn<int>("index");
    auto cases = hostile::cases();
    for (size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
  }

  void hostileInputsExitTwoWithTheirMessage() {
    QFETCH(int, index);
    hostile::Case c = hostile::cases()[static_cast<size_t>(index)];
    // Each case in its own folder; the external-data target sits one level up.
    std::string folder = dir_ + "/hostile/" + c.name + "/model";
    fs::create_directories(folder);
    if (!c.sideFile.empty()) writeBytes(dir_ + "/hostile/" + c.name + "/secret.bin", c.sideFile);
    std::string path = folder + "/" + c.name + ".onnx";
    writeBytes(path, c.bytes);
    std::vector<std::string> mentions = c.mentions;
    mentions.push_back(c.name + ".onnx");  // the file is named too

    CliResult info = runCli({"info", q(path)});
    std::string why = badInputProblem(info, mentions);
    QVERIFY2(why.empty(), ("info: " + why).c_str());
    CliResult infoJson = runCli({"info", q(path), "--json"});
    why = badInputProblem(infoJson, mentions);
    QVERIFY2(why.empty(), ("info --json: " + why).c_str());
    QVERIFY2(infoJson.out.empty(), infoJson.out.c_str());

    std::string out = folder + "/pruned.onnx";
    CliResult prune = runCli({"prune", q(path), "--recipe", q(recipe_), "--out", q(out)});
    why = badInputProblem(prune, mentions);
    QVERIFY2(why.empty(), ("prune: " + why).c_str());
    QVERIFY2(!fs::exists(out), "prune wrote an output for a refused model");
    QCOMPARE(readBytes(path), c.bytes);  // the input is untouched
    QCOMPARE(strayFiles(folder, {c.name + ".onnx"}), std::vector<std::string>{});
  }

  void badRecipesNameTheKey_data() {
    QTest::addColumn<QString>("recipe");
    QTest::addColumn<QString>("mention");
    QTest::newRow("unknown top key") << R"({"defualt": {"sparsity": 0.5}})" << "'defualt' is unknown";
    QTest::newRow("unknown layer key") << R"({"default": {"sparsty": 0.5}})" << "default.sparsty";
    QTest::newRow("unknown key of a layer entry") << R"({"layers": {"fc": {"colour": 1}}})" << "layers.fc.colour";
    QTest::newRow("sparsity above 1") << R"({"default": {"sparsity": 1.5}})" << "default.sparsity";
    QTest::newRow("sparsity negative") << R"({"default": {"sparsity": -0.1}})" << "default.sparsity";
    QTest::newRow("sparsity as text") << R"({"default": {"sparsity": "half"}})" << "default.sparsity";
    QTest::newRow("n not below m") << R"({"default": {"granularity": "nm", "n": 4, "m": 2}})" << "default.n";
    QTest::newRow("unknown granularity") << R"({"default": {"granularity": "atom"}})" << "default.granularity";
    QTest::newRow("unknown criterion") << R"({"default": {"criterion": "vibes"}})" << "default.criterion";
    QTest::newRow("unknown method") << R"({"method": "obs"})" << "'method'";
    QTest::newRow("unknown schedule") << R"({"schedule": {"kind": "linear"}})" << "schedule.kind";
    QTest::newRow("zero schedule steps") << R"({"schedule": {"kind": "agp", "steps": 0}})" << "schedule.steps";
    QTest::newRow("negative learning rate") << R"({"finetune": {"epochs": 1, "lr": -1}})" << "finetune.lr";
    QTest::newRow("nine bits") << R"({"quantize": {"bits": 9}})" << "quantize.bits";
    QTest::newRow("huge epochs") << R"({"finetune": {"epochs": 1e12}})" << "finetune.epochs";
    QTest::newRow("layer that does not exist") << R"({"layers": {"conv9": {"sparsity": 0.5}}})" << "conv9";
    QTest::newRow("not JSON") << "{\"default\": " << "not valid JSON";
    QTest::newRow("not JSON: where") << "{\"default\": {\"sparsity\": 0.5,\n  }}"
                                     << "line 2, column 3";
    QTest::newRow("key twice") << R"({"default": {"sparsity": 0.5, "sparsity": 0.7}})"
                               << "'default.sparsity' is given twice";
    QTest::newRow("layer twice") << R"({"layers": {"conv1": {"sparsity": 0.5}, "conv1": {}}})"
                                 << "'layers.conv1' is given twice";
    QTest::newRow("agp start above the end")
        << R"({"default": {"sparsity": 0.5}, "schedule": {"kind": "agp", "initial_sparsity": 0.9}})"
        << "0.9 is above the final sparsity 0.5";
    QTest::newRow("array instead of object") << R"([1, 2, 3])" << "must be an object";
    QTest::newRow("nesting bomb") << QString(100000, '[') << "levels deep";
  }

  void badRecipesNameTheKey() {
    QFETCH(QString, recipe);
    QFETCH(QString, mention);
    std::string path = dir_ + "/bad_recipe.json";
    writeBytes(path, recipe.toStdString());
    std::string out = dir_ + "/bad_recipe_out.onnx";
    CliResult r = runCli({"prune", q(model_), "--recipe", q(path), "--out", q(out)});
    std::string why = badInputProblem(r, {mention.toStdString()});
    QVERIFY2(why.empty(), why.c_str());
    QVERIFY(!fs::exists(out));
  }

  void sourceModelIsNeverWritten() {
    std::string before = readBytes(model_);
    auto mtime = fs::last_write_time(model_);
    std::string sub = dir_ + "/sub";
    fs::create_directories(sub);
    std::error_code ec;
    fs::create_symlink(model_, dir_ + "/alias.onnx", ec);
    QVERIFY2(!ec, ec.message().c_str());
    fs::create_hard_link(model_, dir_ + "/hardlink.onnx", ec);
    QVERIFY2(!ec, ec.message().c_str());
    const std::vector<std::string> spellings = {model_, dir_ + "/./model.onnx", sub + "/../model.onnx",
                                                dir_ + "/alias.onnx", dir_ + "/hardlink.onnx"};
    for (const std::string& out : spellings) {
      CliResult r = runCli({"prune", q(model_), "--recipe", q(recipe_), "--out", q(out)});
      std::string why = badInputProblem(r, {"overwrite"});
      QVERIFY2(why.empty(), (out + ": " + why).c_str());
    }
    // The model through the symlink as input, its real path as output.
    CliResult r = runCli({"prune", q(dir_ + "/alias.onnx"), "--recipe", q(recipe_), "--out", q(model_)});
    QVERIFY2(badInputProblem(r, {"overwrite"}).empty(), r.err.c_str());
    QCOMPARE(readBytes(model_), before);
    QVERIFY(fs::last_write_time(model_) == mtime);
    // A different output next to it works, and still leaves the source alone.
    r = runCli({"prune", q(model_), "--recipe", q(recipe_), "--out", q(dir_ + "/other.onnx")});
    QVERIFY2(r.exitCode == 0, r.err.c_str());
    QVERIFY(loadModel(dir_ + "/other.onnx").isOk());
    QCOMPARE(readBytes(model_), before);
    QVERIFY(fs::last_write_time(model_) == mtime);
  }

  // The recipe is an input too: prune's --out naming it, or a report folder
  // holding it as recipe.json, overwrote it (the report's recipe.json drops
  // the user's comments). Refused before any work; the files stay as they were.
  void recipeIsNeverWritten() {
    const std::string sub = dir_ + "/inputs";
    fs::create_directories(sub);
    const std::string recipe = sub + "/recipe.json";
    const std::string text = R"({"comment": "mine", "default": {"granularity": "element", "sparsity": 0.5}})";
    writeBytes(recipe, text);
    CliResult r = runCli({"prune", q(model_), "--recipe", q(recipe), "--out", q(recipe)});
    QVERIFY2(badInputProblem(r, {"--out", "recipe", "overwrite"}).empty(), r.err.c_str());
    QCOMPARE(readBytes(recipe), text);
    r = runCli({"report", q(model_), "--recipe", q(recipe), "--data", "fashion-mnist", "--limit", "20", "--out",
                q(sub), "--no-sensitivity", "--no-verdict", "--latency-runs", "0"});
    QVERIFY2(badInputProblem(r, {"recipe.json", "overwrite", "input recipe"}).empty(), r.err.c_str());
    QCOMPARE(readBytes(recipe), text);
    QCOMPARE(strayFiles(sub, {"recipe.json"}), std::vector<std::string>{});
    // The model named like one of the report's files is refused alike.
    const std::string model = sub + "/report.json";
    fs::copy_file(model_, model);
    r = runCli({"report", q(model), "--recipe", q(recipe_), "--data", "fashion-mnist", "--limit", "20", "--out",
                q(sub), "--no-sensitivity", "--no-verdict", "--latency-runs", "0"});
    QVERIFY2(badInputProblem(r, {"report.json", "overwrite", "input model"}).empty(), r.err.c_str());
    QCOMPARE(readBytes(model), readBytes(model_));
  }

  // An --out that is a folder or empty is refused before any work, as bad
  // input naming the problem (it was exit 1 after the whole run, with the
  // temp file's rename in the message), by every command that writes one.
  void outputPathThatIsNoFileIsRefusedFirst_data() {
    QTest::addColumn<QString>("command");
    QTest::addColumn<bool>("empty");
    for (const char* c : {"prune", "train", "sensitivity"})
      for (bool e : {false, true})
        QTest::newRow(qPrintable(QString("%1 %2").arg(c).arg(e ? "empty" : "folder"))) << c << e;
  }
  void outputPathThatIsNoFileIsRefusedFirst() {
    QFETCH(QString, command);
    QFETCH(bool, empty);
    const std::string sub = dir_ + "/outdir";
    fs::create_directories(sub);
    const QString out = empty ? QString() : q(sub);
    QStringList args{command};
    if (command == "prune") args << q(model_) << "--recipe" << q(recipe_);
    if (command == "train")
      args << "--arch"
           << "lenet5"
           << "--data"
           << "fashion-mnist:train"
           << "--epochs"
           << "1";
    if (command == "sensitivity")
      args << q(model_) << "--data"
           << "fashion-mnist";
    args << "--out" << out;
    CliResult r = runCli(args);
    QVERIFY2(badInputProblem(r, {"--out", empty ? "empty" : "folder"}).empty(), r.err.c_str());
    QVERIFY2(r.err.find("prune step") == std::string::npos && r.err.find("epoch") == std::string::npos, r.err.c_str());
    QVERIFY(fs::is_empty(sub));
  }

  void killDuringExportLeavesOldOrNewFile() {
    // 1024x1024 weights: a 4 MiB model whose export takes a noticeable time.
    fs::create_directories(dir_ + "/kill");
    std::string dir = fs::canonical(dir_ + "/kill").string();  // as /proc/PID/fd spells it
    std::string big = dir + "/big.onnx", out = dir + "/out.onnx", recipe = dir + "/r.json";
    QVERIFY(saveModel(gemmModel(1024, 1024), big).isOk());
    writeBytes(recipe, R"({"default": {"granularity": "element", "sparsity": 0.5}})");
    std::string oldBytes = serializeModel(gemmModel(16, 8)).value();
    const QStringList args = {"prune", q(big), "--recipe", q(recipe), "--out", q(out), "--latency-runs", "1",
                              "--threads", "1"};
    const std::set<std::string> expected = {"big.onnx", "out.onnx", "r.json"};

    // Uninterrupted run: the new bytes and how long a whole run takes.
    writeBytes(out, oldBytes);
    QElapsedTimer clock;
    clock.start();
    CliResult full = runCli(args);
    qint64 fullMs = clock.elapsed();
    QVERIFY2(full.exitCode == 0, full.err.c_str());
    std::string newBytes = readBytes(out);
    QVERIFY(newBytes != oldBytes);
    QVERIFY(newBytes.size() > (size_t(4) << 20));
    auto pruned = loadModelFromBytes(newBytes);
    QVERIFY2(pruned.isOk(), pruned.status().message().c_str());
    QCOMPARE(pruned->initializers.at("W").numel(), int64_t(1024) * 1024);

    std::random_device rd;
    const unsigned seed = rd();
    std::mt19937 rng(seed);
    qInfo("whole export: %lld ms; kill moments drawn with seed %u", static_cast<long long>(fullMs), seed);
    int sawOld = 0, sawNew = 0, duringWrite = 0;
    for (int round = 0; round < 6; ++round) {
      writeBytes(out, oldBytes);
      QProcess p;
      p.start(TOPIARY_CLI, args);
      QVERIFY(p.waitForStarted(10000));
      qint64 killAt = -1;
      if (round % 2 == 0) {
        // A random moment of the run.
        killAt = std::uniform_int_distribution<qint64>(1, std::max<qint64>(2, fullMs))(rng);
        p.waitForFinished(static_cast<int>(killAt));
      } else {
        // The moment the export opens its file in the output folder.
        clock.restart();
        while (p.state() == QProcess::Running && !writingInto(p.processId(), dir) && clock.elapsed() < 4 * fullMs + 5000)
          QThread::usleep(200);
        if (p.state() == QProcess::Running && writingInto(p.processId(), dir)) ++duringWrite;
      }
      p.kill();  // SIGKILL: no handler, no cleanup
      p.waitForFinished(10000);
      std::string now = readBytes(out);
      QVERIFY2(now == oldBytes || now == newBytes,
               ("round " + std::to_string(round) + ": torn output of " + std::to_string(now.size()) + " bytes").c_str());
      (now == oldBytes ? sawOld : sawNew)++;
      QCOMPARE(strayFiles(dir, expected), std::vector<std::string>{});
    }
    qInfo("after kill -9: %d old, %d new, %d kills while the output file was open", sawOld, sawNew, duringWrite);
    QCOMPARE(sawOld + sawNew, 6);
    QVERIFY(duringWrite >= 1);  // the interesting moment was really hit
  }
};

QTEST_GUILESS_MAIN(TestCliReliability)
#include "test_cli_reliability.moc"
