// Loading, running and saving ONNX models; rejection of broken files.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "common/test_util.h"
#include "topiary/executor.h"
#include "topiary/file_util.h"
#include "topiary/onnx_io.h"

using namespace topiary;

class TestOnnxIo : public QObject {
  Q_OBJECT
 private:
  std::string caseDir(const std::string& name) { return std::string(testutil::kOnnxTestData) + "/node/" + name; }

 private slots:
  void runsReluCase() {
    std::string dir = caseDir("test_relu");
    auto g = loadModel(dir + "/model.onnx");
    QVERIFY2(g.isOk(), g.status().message().c_str());
    auto in = loadTensorProto(dir + "/test_data_set_0/input_0.pb");
    auto expected = loadTensorProto(dir + "/test_data_set_0/output_0.pb");
    QVERIFY(in.isOk() && expected.isOk());
    auto ex = Executor::create(g.value());
    QVERIFY2(ex.isOk(), ex.status().message().c_str());
    QVERIFY((*ex)->run(in->tensor).isOk());
    QCOMPARE(testutil::maxAbsDiff((*ex)->output(0), expected->tensor), 0.0);
  }

  void roundTripPassesCheckerAndGivesIdenticalOutputs() {
    std::string dir = caseDir("test_gemm_all_attributes");
    auto g = loadModel(dir + "/model.onnx");
    QVERIFY2(g.isOk(), g.status().message().c_str());
    std::string out = testutil::tempDir() + "/gemm_roundtrip.onnx";
    QVERIFY(saveModel(g.value(), out).isOk());
    auto g2 = loadModel(out);
    QVERIFY2(g2.isOk(), g2.status().message().c_str());
    Status chk = checkModel(g2.value());
    QVERIFY2(chk.isOk(), chk.message().c_str());
    std::vector<NamedTensor> ins;
    for (int i = 0; i < 3; ++i) {
      auto t = loadTensorProto(dir + "/test_data_set_0/input_" + std::to_string(i) + ".pb");
      QVERIFY(t.isOk());
      ins.push_back(std::move(t.value()));
    }
    auto run = [&](const Graph& graph) {
      auto ex = Executor::create(graph);
      std::vector<std::pair<std::string, const Tensor*>> feed;
      for (size_t i = 0; i < ins.size(); ++i) feed.emplace_back(graph.inputs[i].name, &ins[i].tensor);
      Status st = (*ex)->run(feed);
      return st.isOk() ? (*ex)->output(0) : Tensor();
    };
    Tensor a = run(g.value()), b = run(g2.value());
    QVERIFY(a.numel() > 0);
    QCOMPARE(a.shape(), b.shape());
    QVERIFY(std::memcmp(a.raw(), b.raw(), a.bytes()) == 0);
    auto expected = loadTensorProto(dir + "/test_data_set_0/output_0.pb");
    QVERIFY(testutil::allClose(a, expected->tensor, 1e-3, 1e-5));
  }

  void truncatedModelIsBadInput() {
    auto bytes = readFile(caseDir("test_gemm_all_attributes") + "/model.onnx");
    QVERIFY(bytes.isOk());
    for (size_t cut : {size_t(3), bytes->size() / 2, bytes->size() - 1}) {
      auto g = loadModelFromBytes(bytes->substr(0, cut));
      QVERIFY(!g.isOk());
      QCOMPARE(g.status().kind(), ErrorKind::BadInput);
    }
  }

  void randomBytesAreBadInput() {
    std::string junk(4096, '\0');
    uint32_t s = 12345;
    for (auto& c : junk) {
      s = s * 1664525u + 1013904223u;
      c = static_cast<char>(s >> 24);
    }
    auto g = loadModelFromBytes(junk);
    QVERIFY(!g.isOk());
    QCOMPARE(g.status().exitCode(), 2);
  }

  void missingFileNamesThePath() {
    auto g = loadModel("/nonexistent/model.onnx");
    QVERIFY(!g.isOk());
    QVERIFY(g.status().message().find("/nonexistent/model.onnx") != std::string::npos);
  }

  void unsupportedOperatorNamesOpAndNode() {
    Graph g;
    g.inputs.push_back(ValueInfo{"x", DType::Float, true, {Dim{1, ""}}});
    Node n;
    n.name = "mystery_node";
    n.opType = "NoSuchOp";
    n.inputs = {"x"};
    n.outputs = {"y"};
    g.nodes.push_back(n);
    g.outputs.push_back(ValueInfo{"y", DType::Float, false, {}});
    QVERIFY(g.validate().isOk());
    auto ex = Executor::create(g);
    QVERIFY(!ex.isOk());
    QCOMPARE(ex.status().kind(), ErrorKind::Unsupported);
    QVERIFY(ex.status().message().find("NoSuchOp") != std::string::npos);
    QVERIFY(ex.status().message().find("mystery_node") != std::string::npos);
  }

  void cycleIsRejected() {
    Graph g;
    g.inputs.push_back(ValueInfo{"x", DType::Float, true, {Dim{1, ""}}});
    Node a, b;
    a.opType = b.opType = "Relu";
    a.name = "a"; a.inputs = {"t2"}; a.outputs = {"t1"};
    b.name = "b"; b.inputs = {"t1"}; b.outputs = {"t2"};
    g.nodes = {a, b};
    g.outputs.push_back(ValueInfo{"t2", DType::Float, false, {}});
    Status st = g.validate();
    QVERIFY(!st.isOk());
    QVERIFY(st.message().find("cycle") != std::string::npos);
  }

  void wrongInputShapeIsBadInput() {
    auto g = loadModel(caseDir("test_relu") + "/model.onnx");
    QVERIFY(g.isOk());
    auto ex = Executor::create(g.value());
    QVERIFY(ex.isOk());
    Tensor wrong(DType::Float, {7, 7});
    Status st = (*ex)->run(wrong);
    QCOMPARE(st.kind(), ErrorKind::BadInput);
    QVERIFY(st.message().find("expects shape") != std::string::npos);
  }

  void atomicWriteRefusesSource() {
    std::string path = testutil::tempDir() + "/src.bin";
    QVERIFY(writeFileAtomic(path, "original").isOk());
    Status st = writeFileAtomic(path, "new", path);
    QVERIFY(!st.isOk());
    QCOMPARE(readFile(path).value(), std::string("original"));
  }
};

QTEST_GUILESS_MAIN(TestOnnxIo)
#include "test_onnx_io.moc"
