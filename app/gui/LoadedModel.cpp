#include "LoadedModel.h"

#include "topiary/executor.h"
#include "topiary/onnx_io.h"
#include "topiary/quantize.h"

namespace {

// The first float initializer of rank >= 2 a node reads: Conv/Gemm/MatMul weights.
std::string prunableWeight(const topiary::Graph& g, const topiary::Node& n) {
  for (const auto& in : n.inputs) {
    auto it = g.initializers.find(in);
    if (it == g.initializers.end()) continue;
    if (it->second.dtype() == topiary::DType::Float && it->second.rank() >= 2) return in;
  }
  return {};
}

}  // namespace

std::shared_ptr<const LoadedModel> LoadedModel::fromGraph(topiary::Graph graph, const QString& path) {
  auto m = std::make_shared<LoadedModel>();
  m->path = path;
  // A quantized model: its integer weights are shown, edited and pruned as
  // the float values they stand for (the engine's pruning does the same).
  auto dequantized = topiary::dequantizeWeights(graph);
  if (!dequantized)
    m->warnings << QString::fromStdString("quantized weights unreadable: " + dequantized.status().message());
  else if (*dequantized > 0)
    m->warnings << QString(
                       "%1 weights are stored as integers (a quantized model): shown and pruned as their float "
                       "values; an export keeps them as floats unless quantization is set")
                       .arg(*dequantized);
  if (graph.valueInfo.empty()) {
    // On one thread: multi-threaded inference of a small graph cost 60-160 ms
    // per call on a busy machine against under 1 ms on one (README).
    topiary::ExecutorOptions eo;
    eo.threads = 1;
    topiary::Status st = topiary::inferShapes(graph, 1, eo);
    if (!st) m->warnings << QString::fromStdString("shapes unknown: " + st.message());
  }
  auto metrics = topiary::measureModel(graph);
  if (metrics) {
    m->metrics = metrics.value();
    m->metricsValid = true;
    if (!m->metrics.flopsUnknown.empty())
      m->warnings << QString::fromStdString("FLOPs and output shapes unknown: " + m->metrics.flopsUnknown);
  } else {
    m->warnings << QString::fromStdString("metrics unavailable: " + metrics.status().message());
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const topiary::Node& n = graph.nodes[i];
    std::string w = prunableWeight(graph, n);
    if (w.empty()) continue;
    LayerInfo li;
    li.name = QString::fromStdString(n.label());
    li.op = QString::fromStdString(n.opType);
    li.weight = QString::fromStdString(w);
    li.weightShape = graph.initializers.at(w).shape();
    li.nodeIndex = static_cast<int>(i);
    if (m->metricsValid && i < m->metrics.layers.size()) {
      li.params = m->metrics.layers[i].params;
      li.flops = m->metrics.layers[i].flops;
      li.outputShape = QString::fromStdString(m->metrics.layers[i].outputShape);
    } else {
      for (const auto& in : n.inputs) {
        auto it = graph.initializers.find(in);
        if (it != graph.initializers.end() && it->second.dtype() == topiary::DType::Float)
          li.params += it->second.numel();
      }
    }
    m->layers.push_back(li);
  }
  auto groups = topiary::buildDependencyGroups(graph);
  if (groups) m->groups = std::move(groups.value());
  else m->groupsError = QString::fromStdString(groups.status().message());
  const auto prunable = topiary::findPrunableLayers(graph);
  for (LayerInfo& li : m->layers)
    li.caps = LayerCapabilities::compute(graph, li.name.toStdString(), prunable, m->groups);
  m->graph = std::make_shared<const topiary::Graph>(std::move(graph));
  return m;
}

topiary::Result<std::shared_ptr<const LoadedModel>> LoadedModel::load(const QString& path) {
  auto g = topiary::loadModel(path.toStdString());
  if (!g) return g.status().withContext("loading " + path.toStdString());
  return fromGraph(std::move(g.value()), path);
}

int LoadedModel::layerIndex(const QString& name) const {
  for (int i = 0; i < layers.size(); ++i)
    if (layers[i].name == name) return i;
  return -1;
}

const LayerInfo* LoadedModel::layer(const QString& name) const {
  int i = layerIndex(name);
  return i < 0 ? nullptr : &layers[i];
}

int LoadedModel::groupOfLayer(const QString& layer) const {
  return topiary::groupProducedBy(groups, layer.toStdString());
}
