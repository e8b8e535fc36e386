// One small file per hostile-input class the loader must refuse, built as raw
// ModelProto bytes, with the words the refusal must contain. Shared by the
// CLI reliability test (every class through `topiary-cli info` and `prune`)
// and usable as extra fuzz seeds.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace hostile {

struct Case {
  std::string name;                   // the input class, used as the file name
  std::string bytes;                  // the model file
  std::vector<std::string> mentions;  // words the error message must contain
  std::string sideFile;               // when set, written next to the model's folder (external data target)
};

inline void addValueInfo(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* sh = tt->mutable_shape();
  for (int64_t d : dims) sh->add_dim()->set_dim_value(d);
}

inline onnx::NodeProto* addNode(onnx::GraphProto* g, const std::string& op, std::vector<std::string> in,
                                std::vector<std::string> out, const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& s : in) n->add_input(s);
  for (auto& s : out) n->add_output(s);
  return n;
}

// x[1,4] -> Add(w) -> Relu -> y[1,4], opset 13: valid; every case bends it.
inline onnx::ModelProto baseModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("hostile");
  addValueInfo(g->add_input(), "x", {1, 4});
  addValueInfo(g->add_output(), "y", {1, 4});
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(1);
  w->add_dims(4);
  for (float v : {0.5f, -1.f, 2.f, 0.f}) w->add_float_data(v);
  addNode(g, "Add", {"x", "w"}, {"h"}, "add");
  addNode(g, "Relu", {"h"}, {"y"}, "relu");
  return m;
}

inline std::string bytesOf(const google::protobuf::MessageLite& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

// Replaces the initializer 'w' by one with the given dims and no data or raw data.
inline onnx::TensorProto* replaceWeight(onnx::ModelProto& m, std::vector<int64_t> dims) {
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->Clear();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) w->add_dims(d);
  return w;
}

inline std::vector<Case> cases() {
  std::vector<Case> out;
  std::string valid = bytesOf(baseModel());
  out.push_back({"truncated", valid.substr(0, valid.size() * 2 / 3), {"truncated or corrupt"}, ""});

  std::mt19937 rng(20261124);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  out.push_back({"random_bytes", noise, {"not a valid ONNX model"}, ""});

  onnx::ModelProto m = baseModel();
  replaceWeight(m, {2, -3});
  out.push_back({"negative_dim", bytesOf(m), {"'w'", "negative"}, ""});

  m = baseModel();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(-4);
  out.push_back({"negative_input_dim", bytesOf(m), {"'x'", "negative"}, ""});

  // 10^12 floats claimed by a file of a few bytes: 4 TB, far over the limit.
  m = baseModel();
  replaceWeight(m, {1000000, 1000000});
  out.push_back({"absurd_dims", bytesOf(m), {"'w'", "4000000000000 bytes"}, ""});

  m = baseModel();
  replaceWeight(m, {1, 4})->set_raw_data(std::string(12, '\0'));
  out.push_back({"raw_data_short", bytesOf(m), {"'w'", "16 bytes", "holds 12"}, ""});

  m = baseModel();
  replaceWeight(m, {int64_t(1) << 40, int64_t(1) << 40});
  out.push_back({"element_count_overflow", bytesOf(m), {"'w'", "overflow"}, ""});

  // 2^31 floats = 8 GiB over the default 4 GiB per-tensor limit.
  m = baseModel();
  replaceWeight(m, {int64_t(1) << 31});
  out.push_back({"over_limit", bytesOf(m), {"'w'", "8589934592", "4294967296"}, ""});

  m = baseModel();
  m.mutable_graph()->mutable_node(0)->set_input(0, "b");
  addNode(m.mutable_graph(), "Relu", {"h"}, {"b"}, "back");
  out.push_back({"cycle", bytesOf(m), {"cycle"}, ""});

  m = baseModel();
  m.mutable_graph()->mutable_node(1)->set_input(0, "ghost");
  out.push_back({"dangling_input", bytesOf(m), {"'ghost'", "'relu'"}, ""});

  m = baseModel();
  auto* w = replaceWeight(m, {1, 4});
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = w->add_external_data();
  kv->set_key("location");
  kv->set_value("../secret.bin");
  out.push_back({"external_escape", bytesOf(m), {"'../secret.bin'", "leaves"}, std::string(16, '\0')});

  // If inside If inside If ... 2000 levels: the parser's recursion limit.
  m = baseModel();
  onnx::NodeProto* n = addNode(m.mutable_graph(), "If", {"x"}, {"z"}, "if0");
  for (int depth = 1; depth <= 2000; ++depth) {
    auto* a = n->add_attribute();
    a->set_name("then_branch");
    a->set_type(onnx::AttributeProto::GRAPH);
    n = addNode(a->mutable_g(), "If", {"x"}, {"z"}, "if" + std::to_string(depth));
  }
  out.push_back({"recursion_bomb", bytesOf(m), {"nests more than"}, ""});
  return out;
}

}  // namespace hostile
