#include "topiary/graph.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace topiary {

int64_t Node::attrInt(const std::string& k, int64_t def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.i;
}
float Node::attrFloat(const std::string& k, float def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.f;
}
std::string Node::attrString(const std::string& k, const std::string& def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.s;
}
std::vector<int64_t> Node::attrInts(const std::string& k, std::vector<int64_t> def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.ints;
}
std::vector<float> Node::attrFloats(const std::string& k, std::vector<float> def) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? def : it->second.floats;
}
const Tensor* Node::attrTensor(const std::string& k) const {
  auto it = attrs.find(k);
  return it == attrs.end() ? nullptr : &it->second.t;
}
const std::string& Node::input(size_t i) const {
  static const std::string empty;
  return i < inputs.size() ? inputs[i] : empty;
}
std::string Node::label() const {
  if (!name.empty()) return name;
  std::string out = "<" + opType;
  if (!outputs.empty()) out += " -> " + outputs[0];
  return out + ">";
}

Shape ValueInfo::shape() const {
  Shape s;
  for (const Dim& d : dims) s.push_back(d.value);
  return s;
}

std::string ValueInfo::shapeString() const {
  if (!hasShape) return "?";
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ",";
    if (dims[i].value >= 0) out += std::to_string(dims[i].value);
    else out += dims[i].param.empty() ? "?" : dims[i].param;
  }
  return out + "]";
}

int64_t Graph::opset() const {
  for (const auto& o : opsetImports)
    if (o.domain.empty() || o.domain == "ai.onnx") return o.version;
  return 1;
}

Status Graph::validate() {
  std::unordered_map<std::string, int> producer;
  std::unordered_set<std::string> available;
  for (const auto& in : inputs)
    if (!available.insert(in.name).second) return Status::badInput("graph input '" + in.name + "' is declared twice");
  for (const auto& kv : initializers) available.insert(kv.first);
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& out : nodes[i].outputs) {
      if (out.empty()) continue;
      if (producer.count(out))
        return Status::badInput("tensor '" + out + "' is produced by two nodes ('" +
                                nodes[static_cast<size_t>(producer[out])].label() + "' and '" +
                                nodes[i].label() + "')");
      if (available.count(out))
        return Status::badInput("node '" + nodes[i].label() + "' writes '" + out +
                                "', which is a graph input or initializer");
      producer[out] = static_cast<int>(i);
    }
  }
  // Kahn's algorithm, stable with respect to the file's order.
  size_t n = nodes.size();
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> users(n);
  for (size_t i = 0; i < n; ++i) {
    std::set<int> deps;
    for (const auto& in : nodes[i].inputs) {
      if (in.empty() || available.count(in)) continue;
      auto it = producer.find(in);
      if (it == producer.end())
        return Status::badInput("node '" + nodes[i].label() + "' (" + nodes[i].opType +
                                ") reads tensor '" + in + "', which no node produces and is not an input or initializer");
      deps.insert(it->second);
    }
    pending[i] = static_cast<int>(deps.size());
    for (int d : deps) users[static_cast<size_t>(d)].push_back(static_cast<int>(i));
  }
  std::vector<int> order;
  order.reserve(n);
  std::set<int> ready;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.insert(static_cast<int>(i));
  while (!ready.empty()) {
    int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (int u : users[static_cast<size_t>(i)])
      if (--pending[static_cast<size_t>(u)] == 0) ready.insert(u);
  }
  if (order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (pending[i] > 0)
        return Status::badInput("the graph has a cycle through node '" + nodes[i].label() + "'");
  }
  std::vector<Node> sorted;
  sorted.reserve(n);
  for (int i : order) sorted.push_back(std::move(nodes[static_cast<size_t>(i)]));
  nodes = std::move(sorted);
  for (const auto& out : outputs)
    if (!producer.count(out.name) && !available.count(out.name))
      return Status::badInput("graph output '" + out.name + "' is not produced by any node");
  return Status::ok();
}

int Graph::producerOf(const std::string& tensor) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (o == tensor) return static_cast<int>(i);
  return -1;
}

std::vector<int> Graph::consumersOf(const std::string& tensor) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& in : nodes[i].inputs)
      if (in == tensor) {
        out.push_back(static_cast<int>(i));
        break;
      }
  return out;
}

bool Graph::isGraphOutput(const std::string& tensor) const {
  for (const auto& o : outputs)
    if (o.name == tensor) return true;
  return false;
}

int Graph::findNode(const std::string& nodeName) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == nodeName) return static_cast<int>(i);
  return -1;
}

const ValueInfo* Graph::info(const std::string& tensor) const {
  for (const auto& v : inputs)
    if (v.name == tensor) return &v;
  for (const auto& v : outputs)
    if (v.name == tensor) return &v;
  auto it = valueInfo.find(tensor);
  return it == valueInfo.end() ? nullptr : &it->second;
}

int64_t Graph::paramCount() const {
  int64_t n = 0;
  for (const auto& kv : initializers)
    if (kv.second.dtype() == DType::Float) n += kv.second.numel();
  return n;
}

int64_t Graph::nonzeroParamCount() const {
  int64_t n = 0;
  for (const auto& kv : initializers) {
    if (kv.second.dtype() != DType::Float) continue;
    const float* p = kv.second.f();
    for (int64_t i = 0; i < kv.second.numel(); ++i) n += p[i] != 0.0f;
  }
  return n;
}

std::string Graph::uniqueName(const std::string& base) const {
  std::unordered_set<std::string> used;
  for (const auto& kv : initializers) used.insert(kv.first);
  for (const auto& v : inputs) used.insert(v.name);
  for (const auto& nd : nodes) {
    used.insert(nd.name);
    for (const auto& o : nd.outputs) used.insert(o);
  }
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string c = base + "_" + std::to_string(i);
    if (!used.count(c)) return c;
  }
}

}  // namespace topiary
