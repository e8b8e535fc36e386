// Hostile files: the loader must refuse malformed or malicious ModelProto and
// TensorProto bytes with a BadInput/Unsupported status whose message names
// the problem, never crash, never allocate what a file merely claims, and
// never read outside the model's folder.
#include <onnx/onnx_pb.h>

#include <QtTest>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "common/test_util.h"
#include "fuzz/hostile_models.h"
#include "topiary/executor.h"
#include "topiary/onnx_io.h"

using namespace topiary;
namespace fs = std::filesystem;

namespace {

using hostile::addNode;
using hostile::bytesOf;
using hostile::addValueInfo;

// x[1,4] -> Relu -> y[1,4], opset 13: the valid base each hostile case bends.
onnx::ModelProto baseModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("hostile");
  addValueInfo(g->add_input(), "x", {1, 4});
  addValueInfo(g->add_output(), "y", {1, 4});
  addNode(g, "Relu", {"x"}, {"y"}, "relu");
  return m;
}


onnx::TensorProto* addInitializer(onnx::ModelProto& m, const std::string& name, std::vector<int64_t> dims,
                                  int dtype = onnx::TensorProto::FLOAT) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(dtype);
  for (int64_t d : dims) t->add_dims(d);
  return t;
}

// Loads and expects a refusal whose message contains every one of `mentions`.
#define EXPECT_REFUSED(result, ...)                                                                      \
  do {                                                                                                   \
    auto&& _r = (result);                                                                                \
    QVERIFY2(!_r.isOk(), "hostile input was accepted");                                                  \
    QVERIFY(_r.status().kind() == ErrorKind::BadInput || _r.status().kind() == ErrorKind::Unsupported);  \
    for (const std::string& _m : std::vector<std::string>{__VA_ARGS__})                                  \
      QVERIFY2(_r.status().message().find(_m) != std::string::npos,                                      \
               ("'" + _m + "' missing from: " + _r.status().message()).c_str());                         \
  } while (0)

}  // namespace

class TestHostile : public QObject {
  Q_OBJECT

 private slots:
  void baseModelLoadsAndRuns() {
    auto g = loadModelFromBytes(bytesOf(baseModel()));
    QVERIFY2(g.isOk(), g.status().message().c_str());
    auto ex = Executor::create(g.value());
    QVERIFY(ex.isOk());
    Tensor x = Tensor::fromVector<float>({1, 4}, {-1, 2, -3, 4});
    QVERIFY((*ex)->run(x).isOk());
    QCOMPARE((*ex)->output(0).at(1), 2.0f);
    QCOMPARE((*ex)->output(0).at(2), 0.0f);
  }

  void truncatedProtobufIsRefusedAtEveryLength() {
    onnx::ModelProto m = baseModel();
    addInitializer(m, "w", {4})->set_raw_data(std::string(16, '\1'));
    std::string full = bytesOf(m);
    int refused = 0;
    for (size_t len = 0; len < full.size(); ++len) {
      auto g = loadModelFromBytes(full.substr(0, len));
      // A cut exactly between two top-level fields can leave a shorter but
      // well-formed message; everything else must be refused.
      if (!g.isOk()) {
        ++refused;
        QVERIFY(!g.status().message().empty());
      }
    }
    QVERIFY2(refused >= static_cast<int>(full.size()) - 4, std::to_string(refused).c_str());
    EXPECT_REFUSED(loadModelFromBytes(full.substr(0, full.size() / 2)), "truncated or corrupt");
    EXPECT_REFUSED(loadModelFromBytes(""), "empty");
  }

  void randomBytesAreRefused() {
    std::mt19937 rng(1234);
    for (int i = 0; i < 300; ++i) {
      std::string bytes(1 + rng() % 2000, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      auto g = loadModelFromBytes(bytes);
      QVERIFY2(!g.isOk(), ("random buffer " + std::to_string(i) + " was accepted").c_str());
    }
  }

  void negativeDimensionIsRefused() {
    onnx::ModelProto m = baseModel();
    addInitializer(m, "neg", {2, -3});
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'neg'", "negative");
    onnx::ModelProto m2 = baseModel();
    m2.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(-4);
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m2)), "'x'", "negative");
  }

  void overflowingElementCountIsRefused() {
    onnx::ModelProto m = baseModel();
    addInitializer(m, "huge", {int64_t(1) << 40, int64_t(1) << 40});
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'huge'", "overflow");
  }

  void byteCountOverflowIsRefused() {
    // 2^61 + 1 doubles: the element count fits in int64, but count * 8 wraps
    // to 8 in 64-bit arithmetic; 8 bytes of raw data must not pass for it.
    onnx::ModelProto m = baseModel();
    addInitializer(m, "wrap", {(int64_t(1) << 61) + 1}, onnx::TensorProto::DOUBLE)->set_raw_data(std::string(8, '\0'));
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'wrap'", "bytes");
  }

  void rawDataShorterThanShapeIsRefused() {
    onnx::ModelProto m = baseModel();
    addInitializer(m, "short", {4, 4})->set_raw_data(std::string(60, '\0'));
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'short'", "64 bytes", "60");
    onnx::ModelProto m2 = baseModel();
    auto* t = addInitializer(m2, "few", {3});
    t->add_float_data(1.f);
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m2)), "'few'", "1 values instead of 3");
  }

  void tensorOverFourGiBIsRefusedBeforeAllocation() {
    // 2^31 floats = 8 GiB; the file holds no data at all, so the refusal must
    // come from the declared size, with the byte count in the message.
    onnx::ModelProto m = baseModel();
    addInitializer(m, "big", {int64_t(1) << 31});
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'big'", "8589934592");
    onnx::TensorProto tp;
    tp.set_name("bigtp");
    tp.set_data_type(onnx::TensorProto::FLOAT);
    tp.add_dims(int64_t(1) << 20);
    tp.add_dims(int64_t(1) << 11);
    EXPECT_REFUSED(parseTensorProto(bytesOf(tp)), "'bigtp'", "8589934592");
    // The limit is configurable: 1 KiB refuses 257 floats.
    onnx::ModelProto m3 = baseModel();
    addInitializer(m3, "w", {257})->set_raw_data(std::string(1028, '\0'));
    LoadLimits small;
    small.maxTensorBytes = 1024;
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m3), "", small), "'w'", "1028", "1024");
  }

  void graphCycleIsRefused() {
    onnx::ModelProto m = baseModel();
    auto* g = m.mutable_graph();
    g->clear_node();
    addNode(g, "Add", {"x", "b"}, {"a"}, "first");
    addNode(g, "Relu", {"a"}, {"b"}, "second");
    addNode(g, "Relu", {"a"}, {"y"}, "out");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "cycle");
    // A node reading its own output.
    onnx::ModelProto m2 = baseModel();
    m2.mutable_graph()->clear_node();
    addNode(m2.mutable_graph(), "Add", {"x", "y"}, {"y"}, "self");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m2)), "cycle", "self");
  }

  void danglingInputIsRefused() {
    onnx::ModelProto m = baseModel();
    m.mutable_graph()->mutable_node(0)->set_input(0, "ghost");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'ghost'", "'relu'");
    onnx::ModelProto m2 = baseModel();
    m2.mutable_graph()->mutable_output(0)->set_name("nowhere");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m2)), "'nowhere'");
  }

  void externalDataCannotLeaveTheModelFolder() {
    fs::path dir = fs::path(testutil::tempDir()) / "extmodel";
    fs::create_directories(dir);
    std::ofstream(dir / "weights.bin", std::ios::binary) << std::string(16, '\0');
    fs::path outside = fs::path(testutil::tempDir()) / "secret.bin";
    std::ofstream(outside, std::ios::binary) << std::string(16, '\0');
    std::error_code ec;
    fs::remove(dir / "link.bin", ec);
    fs::create_symlink(outside, dir / "link.bin", ec);
    auto modelWith = [&](const std::string& location, const std::string& offset = "", const std::string& length = "") {
      onnx::ModelProto m = baseModel();
      auto* t = addInitializer(m, "ext", {4});
      t->set_data_location(onnx::TensorProto::EXTERNAL);
      auto* kv = t->add_external_data();
      kv->set_key("location");
      kv->set_value(location);
      if (!offset.empty()) {
        kv = t->add_external_data();
        kv->set_key("offset");
        kv->set_value(offset);
      }
      if (!length.empty()) {
        kv = t->add_external_data();
        kv->set_key("length");
        kv->set_value(length);
      }
      return bytesOf(m);
    };
    // The legitimate case works, so the refusals below are about the path.
    auto ok = loadModelFromBytes(modelWith("weights.bin"), dir.string());
    QVERIFY2(ok.isOk(), ok.status().message().c_str());
    QCOMPARE(ok->initializers.at("ext").numel(), int64_t(4));
    EXPECT_REFUSED(loadModelFromBytes(modelWith("../../etc/passwd"), dir.string()), "'../../etc/passwd'", "leaves");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("../secret.bin"), dir.string()), "leaves");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("/etc/passwd"), dir.string()), "'/etc/passwd'", "absolute");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("sub/../../secret.bin"), dir.string()), "leaves");
    if (fs::is_symlink(dir / "link.bin"))
      EXPECT_REFUSED(loadModelFromBytes(modelWith("link.bin"), dir.string()), "leaves");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("weights.bin"), ""), "external");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("weights.bin", "-8"), dir.string()), "offset");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("weights.bin", "99999999999999999999"), dir.string()), "offset");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("weights.bin", "8", "16"), dir.string()), "shorter");
    EXPECT_REFUSED(loadModelFromBytes(modelWith("missing.bin"), dir.string()), "missing.bin");
    EXPECT_REFUSED(loadModelFromBytes(modelWith(""), dir.string()), "location");
  }

  void deeplyNestedSubgraphsAreRefused() {
    // An If node whose then_branch holds an If node ... 1000 levels deep.
    onnx::ModelProto m = baseModel();
    onnx::GraphProto* g = m.mutable_graph();
    onnx::NodeProto* n = addNode(g, "If", {"x"}, {"z"}, "if0");
    for (int depth = 1; depth <= 1000; ++depth) {
      auto* a = n->add_attribute();
      a->set_name("then_branch");
      a->set_type(onnx::AttributeProto::GRAPH);
      onnx::GraphProto* sub = a->mutable_g();
      sub->set_name("level" + std::to_string(depth));
      n = addNode(sub, "If", {"x"}, {"z"}, "if" + std::to_string(depth));
    }
    std::string bytes = bytesOf(m);
    QVERIFY(bytes.size() > 10000);
    EXPECT_REFUSED(loadModelFromBytes(bytes), "corrupt");
    // Shallow nesting is fine for the loader (the executor refuses If later).
    onnx::ModelProto shallow = baseModel();
    auto* a = addNode(shallow.mutable_graph(), "If", {"x"}, {"z"}, "if_shallow")->add_attribute();
    a->set_name("then_branch");
    a->set_type(onnx::AttributeProto::GRAPH);
    a->mutable_g()->set_name("inner");
    QVERIFY(loadModelFromBytes(bytesOf(shallow)).isOk());
  }

  void duplicateNamesAreRefused() {
    onnx::ModelProto m = baseModel();
    addInitializer(m, "w", {1})->add_float_data(1.f);
    addInitializer(m, "w", {1})->add_float_data(2.f);
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'w'", "twice");
    onnx::ModelProto m2 = baseModel();
    addNode(m2.mutable_graph(), "Relu", {"x"}, {"y"}, "again");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m2)), "'y'", "two nodes");
    onnx::ModelProto m3 = baseModel();
    addValueInfo(m3.mutable_graph()->add_input(), "x", {1, 4});
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m3)), "'x'", "twice");
    onnx::ModelProto m4 = baseModel();
    addNode(m4.mutable_graph(), "Relu", {"y"}, {"x"}, "overwrite_input");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m4)), "'x'", "graph input");
  }

  void oddTypesAreRefusedOrUnsupported() {
    onnx::ModelProto m = baseModel();
    auto* t = addInitializer(m, "s", {1}, onnx::TensorProto::STRING);
    t->add_string_data("hello");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'s'");
    onnx::ModelProto m2 = baseModel();
    addInitializer(m2, "bad_type", {1}, 999)->set_raw_data(std::string(4, '\0'));
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m2)), "'bad_type'", "999");
    // An input of an unknown element type: loads, but no input can be made for it.
    onnx::ModelProto m3 = baseModel();
    m3.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(999);
    auto g = loadModelFromBytes(bytesOf(m3));
    if (g.isOk()) QVERIFY(!makeInputLike(g->inputs[0], 1).isOk());
    // An input declared huge is refused by its bytes before allocating: 1.6e9
    // floats passed the old 2^31-element check and took 6.4 GB (CI's fuzzer).
    ValueInfo huge;
    huge.name = "x";
    huge.hasShape = true;
    huge.dims = {Dim{1593835518, ""}};
    auto refused = makeInputLike(huge, 1);
    QVERIFY(!refused.isOk());
    QCOMPARE(refused.status().kind(), ErrorKind::BadInput);
    QVERIFY2(refused.status().message().find("6375342072 bytes") != std::string::npos,
             refused.status().message().c_str());
    huge.dims = {Dim{1024, ""}};
    QVERIFY(makeInputLike(huge, 1, 4096).isOk());  // exactly at the limit
    QVERIFY(!makeInputLike(huge, 1, 4095).isOk());
  }

  void hostileTensorProtoFilesAreRefused() {
    EXPECT_REFUSED(parseTensorProto(std::string("\x0a\xff\xff\xff\xff\x0f", 6)), "truncated or corrupt");
    onnx::TensorProto tp;
    tp.set_name("t");
    tp.set_data_type(onnx::TensorProto::FLOAT);
    tp.add_dims(3);
    tp.set_raw_data(std::string(8, '\0'));
    EXPECT_REFUSED(parseTensorProto(bytesOf(tp)), "'t'", "12 bytes");
    tp.set_data_location(onnx::TensorProto::EXTERNAL);
    EXPECT_REFUSED(parseTensorProto(bytesOf(tp)), "external");
  }

  void operatorArityIsCheckedAgainstTheSchema() {
    // Fuzz finding: a MaxPool with no output reached the kernel, which
    // indexes its outputs. Counts and required slots follow ONNX's schema.
    onnx::ModelProto m = baseModel();
    m.mutable_graph()->clear_node();
    addNode(m.mutable_graph(), "MaxPool", {"x"}, {}, "pool");
    addNode(m.mutable_graph(), "Relu", {"x"}, {"y"}, "relu");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m)), "'pool'", "0 outputs", "1 to 2");
    onnx::ModelProto m2 = baseModel();
    m2.mutable_graph()->mutable_node(0)->add_input("x");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m2)), "'relu'", "2 inputs", "1 to 1");
    onnx::ModelProto m3 = baseModel();
    m3.mutable_graph()->clear_node();
    addNode(m3.mutable_graph(), "Add", {"", "x"}, {"y"}, "add");
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m3)), "'add'", "required input 0");
    // Optional slots may stay empty: Clip with no min but a max.
    onnx::ModelProto ok = baseModel();
    ok.mutable_graph()->clear_node();
    addNode(ok.mutable_graph(), "Clip", {"x", "", "x"}, {"y"}, "clip");
    auto g = loadModelFromBytes(bytesOf(ok));
    QVERIFY2(g.isOk(), g.status().message().c_str());
  }

  void tooManyNodesAreRefused() {
    onnx::ModelProto m = baseModel();
    for (int i = 0; i < 20; ++i) addNode(m.mutable_graph(), "Relu", {"x"}, {"r" + std::to_string(i)});
    LoadLimits limits;
    limits.maxNodes = 10;
    EXPECT_REFUSED(loadModelFromBytes(bytesOf(m), "", limits), "21 nodes", "10");
  }
};

QTEST_GUILESS_MAIN(TestHostile)
#include "test_hostile.moc"
