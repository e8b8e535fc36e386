// The graph IR: what an ONNX model holds, in plain C++ types. Nodes are kept
// in topological order (Graph::validate establishes it). Tensors are named;
// weights are initializers owned by the graph.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

struct Attribute {
  enum class Type { Undefined, Float, Int, String, Tensor, Floats, Ints, Strings, Graph };
  Type type = Type::Undefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  topiary::Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;

  static Attribute ofInt(int64_t v) { Attribute a; a.type = Type::Int; a.i = v; return a; }
  static Attribute ofFloat(float v) { Attribute a; a.type = Type::Float; a.f = v; return a; }
  static Attribute ofString(std::string v) { Attribute a; a.type = Type::String; a.s = std::move(v); return a; }
  static Attribute ofInts(std::vector<int64_t> v) { Attribute a; a.type = Type::Ints; a.ints = std::move(v); return a; }
  static Attribute ofFloats(std::vector<float> v) { Attribute a; a.type = Type::Floats; a.floats = std::move(v); return a; }
  static Attribute ofTensor(topiary::Tensor v) { Attribute a; a.type = Type::Tensor; a.t = std::move(v); return a; }
};

struct Node {
  std::string name;
  std::string opType;
  std::string domain;  // "" (or "ai.onnx") for the default domain
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::map<std::string, Attribute> attrs;

  bool hasAttr(const std::string& k) const { return attrs.count(k) != 0; }
  int64_t attrInt(const std::string& k, int64_t def) const;
  float attrFloat(const std::string& k, float def) const;
  std::string attrString(const std::string& k, const std::string& def) const;
  std::vector<int64_t> attrInts(const std::string& k, std::vector<int64_t> def = {}) const;
  std::vector<float> attrFloats(const std::string& k, std::vector<float> def = {}) const;
  const Tensor* attrTensor(const std::string& k) const;
  // The i-th input name or "" if absent.
  const std::string& input(size_t i) const;
  // A label for messages: the node's name, or "<opType #index>" when unnamed.
  std::string label() const;
};

struct Dim {
  int64_t value = -1;   // -1: unknown / symbolic
  std::string param;    // symbolic name, e.g. "batch"
};

struct ValueInfo {
  std::string name;
  DType dtype = DType::Float;
  bool hasShape = false;
  std::vector<Dim> dims;

  // Concrete dimensions, -1 for symbolic ones.
  Shape shape() const;
  std::string shapeString() const;  // "[N,1,28,28]"
};

struct OpsetImport {
  std::string domain;
  int64_t version = 0;
};

class Graph {
 public:
  std::string name = "graph";
  std::vector<Node> nodes;
  std::map<std::string, Tensor> initializers;
  std::vector<ValueInfo> inputs;   // runtime inputs only (not initializers)
  std::vector<ValueInfo> outputs;
  std::map<std::string, ValueInfo> valueInfo;  // inferred or declared intermediate shapes

  // Model-level metadata kept for saving.
  int64_t irVersion = 8;
  std::vector<OpsetImport> opsetImports{{"", 13}};
  std::string producerName = "topiary";
  std::string producerVersion;
  std::string docString;
  std::vector<std::pair<std::string, std::string>> metadata;

  // Version of the default ("" / "ai.onnx") opset.
  int64_t opset() const;

  // Checks structure and sorts nodes topologically: every input is produced by
  // a node, is an initializer or a graph input; no tensor has two producers;
  // no cycles; every graph output is produced. Messages name the tensor/node.
  Status validate();

  // Index of the node producing `tensor`, or -1.
  int producerOf(const std::string& tensor) const;
  // Indices of nodes reading `tensor`.
  std::vector<int> consumersOf(const std::string& tensor) const;
  bool isInitializer(const std::string& tensor) const { return initializers.count(tensor) != 0; }
  bool isGraphOutput(const std::string& tensor) const;
  int findNode(const std::string& nodeName) const;
  const ValueInfo* info(const std::string& tensor) const;  // input, output or valueInfo

  // Parameter count (elements of float initializers) and nonzero count.
  int64_t paramCount() const;
  int64_t nonzeroParamCount() const;

  // A name not yet used by any tensor or node, starting with `base`.
  std::string uniqueName(const std::string& base) const;
};

}  // namespace topiary
