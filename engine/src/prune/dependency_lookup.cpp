// Finding groups by node or tensor, and the elements a channel slice covers.
#include <algorithm>

#include "prune/dependency_internal.h"
#include "topiary/dependency.h"
#include "topiary/executor.h"

namespace topiary {

int groupProducedBy(const std::vector<DependencyGroup>& groups, const std::string& nodeName) {
  for (const auto& g : groups)
    if (std::find(g.producers.begin(), g.producers.end(), nodeName) != g.producers.end()) return g.id;
  return -1;
}

int groupConsumedBy(const std::vector<DependencyGroup>& groups, const Graph& graph, const std::string& nodeName) {
  for (const auto& g : groups)
    if (std::find(g.consumers.begin(), g.consumers.end(), nodeName) != g.consumers.end()) return g.id;
  int idx = depdetail::findNodeByLabel(graph, nodeName);
  if (idx < 0) return -1;
  return groupOfTensor(groups, graph.nodes[static_cast<size_t>(idx)].input(0));
}

int groupOfTensor(const std::vector<DependencyGroup>& groups, const std::string& tensor) {
  for (const auto& g : groups)
    if (std::find(g.tensors.begin(), g.tensors.end(), tensor) != g.tensors.end()) return g.id;
  return -1;
}

std::vector<int64_t> sliceElementIndices(const Shape& shape, const ChannelSlice& slice, int64_t channel) {
  std::vector<int64_t> out;
  if (slice.axis < 0 || slice.axis >= static_cast<int>(shape.size()) || slice.inner <= 0 || channel < 0 ||
      slice.repeat < 1 || (slice.repeat > 1 && slice.period < slice.inner))
    return out;
  const size_t axis = static_cast<size_t>(slice.axis);
  const std::vector<int64_t> along = sliceAxisIndices(slice, channel);
  if (along.empty() || along.front() < 0 || along.back() >= shape[axis]) return out;
  int64_t outer = 1, after = 1;
  for (size_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) after *= shape[i];
  out.reserve(static_cast<size_t>(outer) * along.size() * static_cast<size_t>(after));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j : along)
      for (int64_t k = 0; k < after; ++k) out.push_back((o * shape[axis] + j) * after + k);
  return out;
}

std::vector<int64_t> sliceAxisIndices(const ChannelSlice& slice, int64_t channel) {
  std::vector<int64_t> out;
  if (slice.inner <= 0 || slice.repeat < 1) return out;
  out.reserve(static_cast<size_t>(slice.inner * slice.repeat));
  for (int64_t r = 0; r < slice.repeat; ++r) {
    const int64_t begin = slice.offset + channel * slice.inner + r * slice.period;
    for (int64_t j = begin; j < begin + slice.inner; ++j) out.push_back(j);
  }
  return out;
}

namespace depdetail {

bool hasAllShapes(const Graph& g) {
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      const ValueInfo* vi = g.info(o);
      if (!vi || !vi->hasShape) return false;
    }
  return true;
}

Status fillShapes(Graph& g) {
  TOPIARY_RETURN_IF_ERROR(inferShapes(g));
  for (auto& out : g.outputs) {
    if (out.hasShape) continue;
    // inferShapes leaves graph outputs alone; copy what it saw for them.
    auto ex = Executor::create(g);
    if (!ex) return ex.status();
    TOPIARY_RETURN_IF_ERROR((*ex)->runOnZeros());
    for (auto& o : g.outputs) {
      const Tensor* t = (*ex)->value(o.name);
      if (o.hasShape || !t) continue;
      o.hasShape = true;
      o.dims.clear();
      for (int64_t d : t->shape()) o.dims.push_back(Dim{d, ""});
    }
    break;
  }
  return Status::ok();
}

}  // namespace depdetail

}  // namespace topiary
