#include "topiary/metrics.h"

#include <set>

#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/quantize.h"

namespace topiary {

Result<ModelMetrics> measureModel(const Graph& graph) {
  ModelMetrics m;
  auto ex = Executor::create(graph);
  if (!ex) return ex.status();
  // A model may take a shape or an index as an input, and zeros may not be
  // a valid one (Expand to [0, 0]): count what needs no run, and say why the
  // rest is missing, rather than refusing to describe the model at all.
  Status ran = (*ex)->runOnZeros();
  if (!ran) m.flopsUnknown = "the run on zero inputs failed: " + ran.message();
  std::vector<double> flops = ran ? (*ex)->nodeFlops() : std::vector<double>(graph.nodes.size(), 0.0);
  // Weights stored as integer codes count as the weights they stand for
  // (on the layer reading them); their scales and zero points are no
  // parameters of the network.
  // (When they cannot be read, the model is still described, without them.)
  auto found = findDequantizedWeights(graph);
  const DequantizedWeights dequantized = found ? std::move(found.value()) : DequantizedWeights{};
  // Their dequantizing nodes (DequantizeLinear, or Cast and Mul) compute a
  // constant, no work per input: the FLOPs are the float model's.
  const std::set<size_t> dequantizing(dequantized.nodes.begin(), dequantized.nodes.end());
  std::set<std::string> counted;  // a shared weight counts once
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    LayerMetrics lm;
    lm.name = n.label();
    lm.op = n.opType;
    lm.flops = dequantizing.count(i) ? 0.0 : flops[i];
    for (const auto& in : n.inputs) {
      const Tensor* w = nullptr;
      auto it = graph.initializers.find(in);
      if (it != graph.initializers.end() && !dequantized.sources.count(in)) w = &it->second;
      auto dq = dequantized.values.find(in);
      if (dq != dequantized.values.end()) w = &dq->second;
      if (!w || w->dtype() != DType::Float || !counted.insert(in).second) continue;
      lm.params += w->numel();
      const float* p = w->f();
      for (int64_t k = 0; k < w->numel(); ++k) lm.nonzeroParams += p[k] != 0.f;
    }
    if (ran && !n.outputs.empty())
      if (const Tensor* t = (*ex)->value(n.outputs[0])) lm.outputShape = shapeToString(t->shape());
    m.params += lm.params;
    m.nonzeroParams += lm.nonzeroParams;
    m.flops += lm.flops;
    m.layers.push_back(std::move(lm));
  }
  auto bytes = serializeModel(graph);
  if (bytes) m.sizeBytes = static_cast<int64_t>(bytes->size());
  return m;
}

nlohmann::json metricsToJson(const ModelMetrics& m) {
  nlohmann::json j;
  j["params"] = m.params;
  j["nonzero_params"] = m.nonzeroParams;
  j["flops"] = m.flops;
  j["size_bytes"] = m.sizeBytes;
  if (!m.flopsUnknown.empty()) j["flops_unknown"] = m.flopsUnknown;
  j["layers"] = nlohmann::json::array();
  for (const auto& l : m.layers)
    j["layers"].push_back({{"name", l.name}, {"op", l.op}, {"params", l.params},
                           {"nonzero_params", l.nonzeroParams}, {"flops", l.flops},
                           {"output_shape", l.outputShape}});
  return j;
}

}  // namespace topiary
