// exportQdq: quantized weights stored as int8 initializers and read through
// DequantizeLinear, so the file is ~4x smaller and ONNX Runtime runs it.
#include "topiary/quantize.h"

namespace topiary {

Result<Graph> exportQdq(const Graph& graph, const QuantSpec& spec) {
  TOPIARY_RETURN_IF_ERROR(checkQuantSpec(spec));
  Graph g = graph;
  std::vector<Node> dq;
  for (const auto& L : findPrunableLayers(graph)) {
    auto qw = quantizeWeight(L, graph.initializers.at(L.weight), spec);
    if (!qw) return qw.status();
    std::string codes = g.uniqueName(L.weight + "_quantized");
    g.initializers[codes] = std::move(qw->codes);
    std::string scale = g.uniqueName(L.weight + "_scale");
    std::string zero = g.uniqueName(L.weight + "_zero_point");
    if (spec.perChannel) {
      int64_t c = static_cast<int64_t>(qw->scales.size());
      g.initializers[scale] = Tensor::fromVector<float>({c}, qw->scales);
      g.initializers[zero] = Tensor(DType::Int8, {c});
    } else {
      g.initializers[scale] = Tensor::fromVector<float>({}, qw->scales);
      g.initializers[zero] = Tensor(DType::Int8, {});
    }
    g.initializers.erase(L.weight);
    Node n;
    n.name = g.uniqueName(L.weight + "_dequantize");
    n.opType = "DequantizeLinear";
    n.inputs = {codes, scale, zero};
    n.outputs = {L.weight};  // consumers keep reading the weight by its name
    if (spec.perChannel) n.attrs["axis"] = Attribute::ofInt(qw->axis);
    dq.push_back(std::move(n));
    g.valueInfo.erase(L.weight);
  }
  g.nodes.insert(g.nodes.begin(), dq.begin(), dq.end());
  bool found = false;
  for (auto& op : g.opsetImports)
    if (op.domain.empty() || op.domain == "ai.onnx") {
      found = true;
      op.version = std::max<int64_t>(op.version, 13);
    }
  if (!found) g.opsetImports.push_back({"", 13});
  TOPIARY_RETURN_IF_ERROR(g.validate());
  return g;
}

}  // namespace topiary
