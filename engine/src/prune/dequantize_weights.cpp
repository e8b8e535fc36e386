// Weights a quantized model stores as integers: the DequantizeLinear of
// constant initializers that exportQdq writes (and ONNX Runtime's QDQ
// tools), or the Cast-then-Mul by constant scales it writes for older
// opsets. Counting and pruning read their float values.
#include <set>

#include "topiary/kernel.h"
#include "topiary/quantize.h"

namespace topiary {

namespace {

bool isIntegerCodes(const Tensor& t) {
  return t.dtype() == DType::Int8 || t.dtype() == DType::UInt8 || t.dtype() == DType::Int32;
}

// Runs one node on constant inputs.
Result<Tensor> evaluate(const Node& n, const std::vector<const Tensor*>& in, int64_t opset) {
  auto k = OpRegistry::instance().build(n, opset);
  if (!k) return k.status();
  Tensor out;
  TOPIARY_RETURN_IF_ERROR((*k)->forward(in, {&out}, RunContext{}).withContext("dequantizing '" + n.label() + "'"));
  return out;
}

}  // namespace

Result<DequantizedWeights> findDequantizedWeights(const Graph& g) {
  DequantizedWeights d;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.outputs.size() != 1 || g.isGraphOutput(n.outputs[0])) continue;
    auto constant = [&](const std::string& name) { return name.empty() || g.isInitializer(name); };
    if (n.opType == "DequantizeLinear") {
      if (n.inputs.empty() || !g.isInitializer(n.inputs[0]) || !isIntegerCodes(g.initializers.at(n.inputs[0])))
        continue;
      bool all = true;
      for (const auto& in : n.inputs) all &= constant(in);
      if (!all) continue;
      std::vector<const Tensor*> in;
      for (const auto& name : n.inputs) in.push_back(name.empty() ? nullptr : &g.initializers.at(name));
      auto v = evaluate(n, in, g.opset());
      if (!v) return v.status();
      d.values[n.outputs[0]] = std::move(v.value());
      d.nodes.push_back(i);
      for (const auto& name : n.inputs)
        if (!name.empty()) d.sources.insert(name);
      continue;
    }
    // Cast(codes) * scales, the Cast read by this Mul only.
    if (n.opType != "Mul" || n.inputs.size() != 2) continue;
    for (int side = 0; side < 2; ++side) {
      const int c = g.producerOf(n.inputs[side]);
      const std::string& scale = n.inputs[1 - side];
      if (c < 0 || !g.isInitializer(scale) || g.initializers.at(scale).dtype() != DType::Float) continue;
      const Node& cast = g.nodes[static_cast<size_t>(c)];
      if (cast.opType != "Cast" || cast.inputs.size() != 1 || !g.isInitializer(cast.inputs[0]) ||
          !isIntegerCodes(g.initializers.at(cast.inputs[0])) || g.consumersOf(cast.outputs[0]).size() != 1 ||
          g.isGraphOutput(cast.outputs[0]))
        continue;
      auto f = evaluate(cast, {&g.initializers.at(cast.inputs[0])}, g.opset());
      if (!f) return f.status();
      if (f->dtype() != DType::Float) continue;
      std::vector<const Tensor*> in(2);
      in[static_cast<size_t>(side)] = &f.value();
      in[static_cast<size_t>(1 - side)] = &g.initializers.at(scale);
      auto v = evaluate(n, in, g.opset());
      if (!v) return v.status();
      d.values[n.outputs[0]] = std::move(v.value());
      d.nodes.push_back(static_cast<size_t>(c));
      d.nodes.push_back(i);
      d.sources.insert(cast.inputs[0]);
      d.sources.insert(scale);
      break;
    }
  }
  return d;
}

Result<int> dequantizeWeights(Graph& g) {
  auto d = findDequantizedWeights(g);
  if (!d) return d.status();
  if (d->values.empty()) return 0;
  std::set<size_t> drop(d->nodes.begin(), d->nodes.end());
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!drop.count(i)) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  const int count = static_cast<int>(d->values.size());
  for (auto& kv : d->values) {
    g.valueInfo.erase(kv.first);
    g.initializers[kv.first] = std::move(kv.second);
  }
  // Codes, scales and zero points nothing else reads.
  for (const auto& name : d->sources)
    if (g.consumersOf(name).empty() && !g.isGraphOutput(name)) g.initializers.erase(name);
  TOPIARY_RETURN_IF_ERROR(g.validate());
  return count;
}

}  // namespace topiary
