// Finding the weights pruning can act on, and the names of granularities and
// criteria.
#include <set>

#include "topiary/prune.h"

namespace topiary {

const char* granularityName(Granularity g) {
  switch (g) {
    case Granularity::Element: return "element";
    case Granularity::NM: return "nm";
    case Granularity::Kernel: return "kernel";
    case Granularity::Filter: return "filter";
    case Granularity::Channel: return "channel";
    case Granularity::Neuron: return "neuron";
    case Granularity::Layer: return "layer";
  }
  return "?";
}

const char* criterionName(Criterion c) {
  switch (c) {
    case Criterion::L1: return "l1";
    case Criterion::L2: return "l2";
    case Criterion::Taylor: return "taylor";
    case Criterion::BnScale: return "bn_scale";
    case Criterion::Random: return "random";
  }
  return "?";
}

bool parseGranularity(const std::string& s, Granularity& out) {
  for (Granularity g : {Granularity::Element, Granularity::NM, Granularity::Kernel, Granularity::Filter,
                        Granularity::Channel, Granularity::Neuron, Granularity::Layer})
    if (s == granularityName(g)) {
      out = g;
      return true;
    }
  if (s == "unstructured") {
    out = Granularity::Element;
    return true;
  }
  return false;
}

bool parseCriterion(const std::string& s, Criterion& out) {
  for (Criterion c : {Criterion::L1, Criterion::L2, Criterion::Taylor, Criterion::BnScale, Criterion::Random})
    if (s == criterionName(c)) {
      out = c;
      return true;
    }
  return false;
}

bool isGroupGranularity(Granularity g) {
  return g == Granularity::Filter || g == Granularity::Channel || g == Granularity::Neuron || g == Granularity::Layer;
}

std::vector<PrunableLayer> findPrunableLayers(const Graph& graph) {
  std::vector<PrunableLayer> out;
  std::set<std::string> seen;
  for (const Node& n : graph.nodes) {
    if (n.inputs.size() < 2) continue;
    auto it = graph.initializers.find(n.inputs[1]);
    if (it == graph.initializers.end() || it->second.dtype() != DType::Float) continue;
    const Tensor& w = it->second;
    PrunableLayer l;
    l.node = n.label();
    l.op = n.opType;
    l.weight = n.inputs[1];
    l.shape = w.shape();
    if (n.opType == "Conv" && w.rank() >= 3) {
      l.outUnits = w.dim(0);
      l.inUnits = w.dim(1);
      l.kernelSize = 1;
      for (int d = 2; d < w.rank(); ++d) l.kernelSize *= w.dim(d);
      l.inStride = l.kernelSize;
      l.outStride = l.inUnits * l.kernelSize;
      l.group = n.attrInt("group", 1);
      if (n.inputs.size() > 2 && graph.isInitializer(n.inputs[2])) l.bias = n.inputs[2];
    } else if ((n.opType == "Gemm" || n.opType == "MatMul") && w.rank() == 2) {
      bool transB = n.opType == "Gemm" && n.attrInt("transB", 0) != 0;
      // Gemm transB=1 stores [out, in]; transB=0 and MatMul store [in, out].
      l.outUnits = transB ? w.dim(0) : w.dim(1);
      l.inUnits = transB ? w.dim(1) : w.dim(0);
      l.outStride = transB ? w.dim(1) : 1;
      l.inStride = transB ? 1 : w.dim(1);
      if (n.opType == "Gemm" && n.inputs.size() > 2 && graph.isInitializer(n.inputs[2])) l.bias = n.inputs[2];
    } else {
      continue;
    }
    if (l.numel() == 0 || !seen.insert(l.weight).second) continue;
    out.push_back(std::move(l));
  }
  return out;
}

const PrunableLayer* findPrunableLayer(const std::vector<PrunableLayer>& layers, const std::string& name) {
  for (const auto& l : layers)
    if (l.node == name) return &l;
  for (const auto& l : layers)
    if (l.weight == name) return &l;
  return nullptr;
}

double zeroFraction(const Tensor& t) {
  if (t.numel() == 0 || t.dtype() != DType::Float) return 0;
  int64_t z = 0;
  const float* p = t.f();
  for (int64_t i = 0; i < t.numel(); ++i) z += p[i] == 0.f;
  return static_cast<double>(z) / static_cast<double>(t.numel());
}

int64_t unitsToPrune(int64_t units, double sparsity) {
  if (sparsity <= 0) return 0;
  int64_t k = static_cast<int64_t>(static_cast<double>(units) * sparsity + 0.5);
  return std::min(k, units);
}

}  // namespace topiary
