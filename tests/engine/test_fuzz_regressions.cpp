// Replays the inputs the fuzzers once crashed on (tests/fuzz/regressions/,
// filled by scripts/fuzz.sh) through the very code the fuzz targets run
// (tests/fuzz/fuzz_targets.h). Each must now end in a clean refusal with a
// message or a successful run, the same way twice; under the sanitizer build
// (scripts/sanitize.sh) this also catches any memory error coming back.
#include <QtTest>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/test_util.h"
#include "fuzz/fuzz_targets.h"
#include "fuzz/hostile_models.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> regressionFiles(const std::string& target) {
  std::vector<fs::path> files;
  fs::path dir = testutil::sourcePath("tests/fuzz/regressions/" + target);
  if (!fs::exists(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string readBytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

using Target = fuzz::Outcome (*)(const uint8_t*, size_t);

fuzz::Outcome replay(Target target, const std::string& bytes) {
  return target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

class TestFuzzRegressions : public QObject {
  Q_OBJECT

  void replayAll(const std::string& target, Target fn) {
    auto files = regressionFiles(target);
    int refused = 0, ran = 0;
    for (const auto& f : files) {
      std::string bytes = readBytes(f);
      fuzz::Outcome a = replay(fn, bytes), b = replay(fn, bytes);
      std::string label = f.filename().string();
      QVERIFY2(a.stage == b.stage && a.message == b.message, (label + ": outcome differs between two runs").c_str());
      if (a.stage == fuzz::Stage::Ran) {
        ++ran;
      } else {
        ++refused;
        QVERIFY2(!a.message.empty(), (label + ": refused without a message").c_str());
      }
      QVERIFY2(a.stage != fuzz::Stage::RoundTripBroken, (label + ": " + a.message).c_str());
      if (target == "recipe")
        QVERIFY2(a.stage != fuzz::Stage::CreateRefused, (label + ": " + a.message).c_str());
    }
    std::printf("%s: %zu regression inputs replayed (%d refused, %d ran)\n", target.c_str(), files.size(), refused, ran);
    QCOMPARE(refused + ran, static_cast<int>(files.size()));
  }

 private slots:
  void loaderTargetSanity() {
    // The harness itself: empty bytes are refused, a real model runs.
    fuzz::Outcome empty = replay(fuzz::runLoaderTarget, "");
    QVERIFY(empty.stage == fuzz::Stage::LoadRefused);
    QVERIFY(empty.message.find("empty") != std::string::npos);
    std::string relu = readBytes(std::string(testutil::kOnnxTestData) + "/node/test_relu/model.onnx");
    QVERIFY(!relu.empty());
    fuzz::Outcome ok = replay(fuzz::runLoaderTarget, relu);
    QVERIFY2(ok.stage == fuzz::Stage::Ran, ok.message.c_str());
  }

  void recipeTargetSanity() {
    fuzz::Outcome ok = replay(fuzz::runRecipeTarget, R"({"default": {"granularity": "element", "sparsity": 0.5}})");
    QVERIFY2(ok.stage == fuzz::Stage::Ran, ok.message.c_str());
    fuzz::Outcome bad = replay(fuzz::runRecipeTarget, R"({"default": {"sparsity": 1.5}})");
    QVERIFY(bad.stage == fuzz::Stage::LoadRefused);
    QVERIFY2(bad.message.find("sparsity") != std::string::npos, bad.message.c_str());
  }

  // The class of input behind a fuzzer's out-of-memory: every tensor is under
  // the harness's 16 MB, but a run keeps them all, and 120 of them are 1.9 GB.
  // The harness's maxRunBytes (256 MiB, 268.4 MB) refuses it at the 17th, naming it.
  void chainOfLargeTensorsIsRefused() {
    onnx::ModelProto m = hostile::baseModel();
    auto* g = m.mutable_graph();
    g->clear_node();
    g->clear_output();
    auto* shape = hostile::replaceWeight(m, {2});
    shape->set_data_type(onnx::TensorProto::INT64);
    shape->add_int64_data(4000);
    shape->add_int64_data(1000);  // 4,000,000 floats: 16.0 MB
    hostile::addNode(g, "Expand", {"x", "w"}, {"h0"}, "expand");
    const int chain = 120;
    for (int i = 1; i <= chain; ++i)
      hostile::addNode(g, "Neg", {"h" + std::to_string(i - 1)}, {"h" + std::to_string(i)}, "neg" + std::to_string(i));
    hostile::addValueInfo(g->add_output(), "h" + std::to_string(chain), {4000, 1000});
    g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(1);
    std::string bytes = hostile::bytesOf(m);
    QVERIFY(bytes.size() < 65536);  // within the fuzzer's -max_len
    fuzz::Outcome o = replay(fuzz::runLoaderTarget, bytes);
    QVERIFY2(o.stage == fuzz::Stage::RunRefused, o.message.c_str());
    QVERIFY2(o.message.find("'neg16'") != std::string::npos && o.message.find("268.4 MB") != std::string::npos &&
                 o.message.find("maxRunBytes") != std::string::npos,
             o.message.c_str());
  }

  // The other class that fits the fuzzer's 3.3 GB: one work buffer, not a
  // tensor. A 200x200 kernel padded by 165 on a 1x1 image makes a 132x132
  // output (70 KB) from a 2.8 GB im2col matrix; the buffer takes the tensor
  // cap (16 MB here) and is refused before it is allocated.
  void hugeIm2colIsRefused() {
    onnx::ModelProto m = hostile::baseModel();
    auto* g = m.mutable_graph();
    g->clear_node();
    g->clear_output();
    g->clear_initializer();
    g->clear_input();
    hostile::addValueInfo(g->add_input(), "x", {1, 1, 1, 1});
    hostile::addValueInfo(g->add_input(), "w", {1, 1, 200, 200});  // 40,000 zeros from the harness
    auto* conv = hostile::addNode(g, "Conv", {"x", "w"}, {"y"}, "conv");
    auto* pads = conv->add_attribute();
    pads->set_name("pads");
    pads->set_type(onnx::AttributeProto::INTS);
    for (int i = 0; i < 4; ++i) pads->add_ints(165);
    hostile::addValueInfo(g->add_output(), "y", {1, 1, 132, 132});
    fuzz::Outcome o = replay(fuzz::runLoaderTarget, hostile::bytesOf(m));
    QVERIFY2(o.stage == fuzz::Stage::RunRefused, o.message.c_str());
    QVERIFY2(o.message.find("'conv'") != std::string::npos &&
                 o.message.find("work buffer of 2787.8 MB") != std::string::npos &&
                 o.message.find("16.8 MB") != std::string::npos,
             o.message.c_str());
  }

  void loaderRegressionsReplay() { replayAll("loader", fuzz::runLoaderTarget); }
  void recipeRegressionsReplay() { replayAll("recipe", fuzz::runRecipeTarget); }
};

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "test_fuzz_regressions.moc"
