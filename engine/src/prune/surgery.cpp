// Group surgery: physically removing channels from every slice of a
// dependency group, and the equivalent in-place mask.
//
// Why the mask zeros consumer slices too: zeroing only the producer filter
// leaves a nonzero channel after BatchNormalization (beta - mean*gamma /
// sqrt(var+eps)) or after an activation with f(0) != 0 (HardSigmoid gives 0.5
// in squeeze-excite), so the next layer would still read it. Zeroing the
// consumers' input slices as well guarantees the channel is never read, so
// the masked graph and the smaller graph compute the same outputs. We do not
// fold the constant into the consumer's bias: with zero padding a Conv sees
// that constant only away from the borders, so folding would not be exact.
#include <algorithm>
#include <map>
#include <set>

#include "prune/dependency_internal.h"
#include "topiary/dependency.h"
#include "topiary/executor.h"

namespace topiary {

namespace {

Status checkRequest(const DependencyGroup& group, const std::vector<int64_t>& channels, bool removing) {
  if (group.locked)
    return Status::badInput("dependency group " + std::to_string(group.id) + " (" + group.rootTensor +
                            ") is locked: " + group.lockReason);
  std::set<int64_t> seen;
  for (int64_t c : channels) {
    if (c < 0 || c >= group.channels)
      return Status::badInput("channel " + std::to_string(c) + " is out of range for group " +
                              std::to_string(group.id) + " (" + group.rootTensor + ", " +
                              std::to_string(group.channels) + " channels)");
    if (!seen.insert(c).second)
      return Status::badInput("channel " + std::to_string(c) + " is listed twice for group " +
                              std::to_string(group.id));
  }
  if (removing && static_cast<int64_t>(seen.size()) >= group.channels)
    return Status::badInput("cannot remove all " + std::to_string(group.channels) + " channels of group " +
                            std::to_string(group.id) + " (" + group.rootTensor + "); keep at least one");
  return Status::ok();
}

Status checkSliceFits(const Graph& graph, const ChannelSlice& s, int64_t channels) {
  auto it = graph.initializers.find(s.tensor);
  if (it == graph.initializers.end())
    return Status::badInput("initializer '" + s.tensor + "' of the group is not in the graph (groups are stale "
                            "after surgery: rebuild them)");
  const Shape& shape = it->second.shape();
  if (s.axis < 0 || s.axis >= static_cast<int>(shape.size()) ||
      s.offset + channels * s.inner > shape[static_cast<size_t>(s.axis)])
    return Status::badInput("initializer '" + s.tensor + "' of shape " + shapeToString(shape) +
                            " does not fit the group's slice (axis " + std::to_string(s.axis) +
                            "); the group is stale: rebuild it");
  return Status::ok();
}

// Copy of `t` without the indices of `axis` where keep[i] is false, any dtype.
Tensor dropAlongAxis(const Tensor& t, size_t axis, const std::vector<bool>& keep) {
  Shape shape = t.shape();
  int64_t kept = std::count(keep.begin(), keep.end(), true);
  int64_t outer = 1, after = 1;
  for (size_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) after *= shape[i];
  const int64_t dim = shape[axis];
  shape[axis] = kept;
  Tensor out(t.dtype(), shape);
  const size_t es = dtypeSize(t.dtype());
  const size_t run = static_cast<size_t>(after) * es;
  const char* src = static_cast<const char*>(t.raw());
  char* dst = static_cast<char*>(out.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < dim; ++j) {
      if (!keep[static_cast<size_t>(j)]) continue;
      std::memcpy(dst, src + static_cast<size_t>((o * dim + j) * after) * es, run);
      dst += run;
    }
  return out;
}

// Parameters the mask leaves alone because zero would make them non-finite:
// a Div divisor, a BN variance (kept so the normalisation stays readable).
bool zeroable(const Graph& g, const ChannelSlice& s) {
  if (s.kind != ChannelSlice::Kind::Param) return true;
  int idx = depdetail::findNodeByLabel(g, s.node);
  if (idx < 0) return true;
  const Node& n = g.nodes[static_cast<size_t>(idx)];
  if (n.opType == "Div" && n.input(1) == s.tensor) return false;
  if (n.opType == "BatchNormalization" && n.input(4) == s.tensor) return false;
  return true;
}

// Reshape targets that listed the channel count explicitly become
// [0, -1, 0, ...]: copy batch and trailing dims, infer the channels. The
// analysis only accepts Reshapes that are a no-op or flatten the trailing
// dims, for which this target is exact.
Status updateReshape(Graph& g, Node& n) {
  const std::string target = n.input(1);
  auto it = g.initializers.find(target);
  if (it == g.initializers.end()) return Status::ok();  // computed at run time; validated by inferShapes
  std::vector<int64_t> dims(static_cast<size_t>(it->second.numel()), 0);
  if (dims.size() < 2) return Status::internal("Reshape node '" + n.label() + "' has a target of rank < 2");
  dims[1] = -1;
  Tensor t = Tensor::fromVector<int64_t>({static_cast<int64_t>(dims.size())}, dims);
  int readers = 0;
  for (const auto& other : g.nodes)
    for (const auto& in : other.inputs) readers += in == target ? 1 : 0;
  if (readers > 1) {
    std::string fresh = g.uniqueName(target + "_pruned");
    g.initializers[fresh] = std::move(t);
    n.inputs[1] = fresh;
  } else {
    it->second = std::move(t);
  }
  return Status::ok();
}

}  // namespace

Status maskGroupChannels(Graph& graph, const DependencyGroup& group, const std::vector<int64_t>& channels) {
  TOPIARY_RETURN_IF_ERROR(checkRequest(group, channels, false));
  for (const auto& s : group.slices) {
    TOPIARY_RETURN_IF_ERROR(checkSliceFits(graph, s, group.channels));
    if (graph.initializers.at(s.tensor).dtype() != DType::Float)
      return Status::unsupported("initializer '" + s.tensor + "' is not float32; masks need float weights");
  }
  for (const auto& s : group.slices) {
    if (!zeroable(graph, s)) continue;
    Tensor& t = graph.initializers.at(s.tensor);
    for (int64_t c : channels)
      for (int64_t i : sliceElementIndices(t.shape(), s, c)) t.f()[i] = 0.0f;
  }
  return Status::ok();
}

Status pruneGroupChannels(Graph& graph, const DependencyGroup& group, const std::vector<int64_t>& channelsToRemove) {
  TOPIARY_RETURN_IF_ERROR(checkRequest(group, channelsToRemove, true));
  if (channelsToRemove.empty()) return Status::ok();
  // Indices to drop, per initializer and axis.
  std::map<std::string, std::map<int, std::set<int64_t>>> drop;
  for (const auto& s : group.slices) {
    TOPIARY_RETURN_IF_ERROR(checkSliceFits(graph, s, group.channels));
    auto& along = drop[s.tensor][s.axis];
    for (int64_t c : channelsToRemove)
      for (int64_t j = s.offset + c * s.inner; j < s.offset + (c + 1) * s.inner; ++j) along.insert(j);
  }
  Graph copy = graph;
  for (const auto& td : drop) {
    Tensor t = copy.initializers.at(td.first);
    for (const auto& ad : td.second) {
      const size_t axis = static_cast<size_t>(ad.first);
      std::vector<bool> keep(static_cast<size_t>(t.shape()[axis]), true);
      for (int64_t j : ad.second) keep[static_cast<size_t>(j)] = false;
      t = dropAlongAxis(t, axis, keep);
    }
    copy.initializers[td.first] = std::move(t);
  }
  for (const auto& label : group.attrUpdates) {
    int idx = depdetail::findNodeByLabel(copy, label);
    if (idx < 0) return Status::badInput("node '" + label + "' of the group is not in the graph; rebuild the groups");
    Node& n = copy.nodes[static_cast<size_t>(idx)];
    if (n.opType == "Conv") {
      // Depthwise: one filter per channel, so group == remaining channels.
      auto w = copy.initializers.find(n.input(1));
      if (w == copy.initializers.end()) return Status::internal("depthwise Conv '" + label + "' lost its weight");
      n.attrs["group"] = Attribute::ofInt(w->second.shape()[0]);
    } else if (n.opType == "Reshape") {
      TOPIARY_RETURN_IF_ERROR(updateReshape(copy, n));
    }
  }
  copy.valueInfo.clear();
  Status st = inferShapes(copy);
  if (!st.isOk())
    return st.withContext("the graph is invalid after removing " + std::to_string(channelsToRemove.size()) +
                                  " channels of group " + std::to_string(group.id) + " (" + group.rootTensor + ")");
  graph = std::move(copy);
  return Status::ok();
}

Result<int64_t> pruneAllGroups(Graph& graph, double fraction, const ImportanceOptions& options,
                               const std::function<bool(const DependencyGroup&)>& filter) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    return Status::badInput("fraction of channels to remove must be in [0, 1), got " + std::to_string(fraction));
  Graph work = graph;
  std::set<std::string> done;  // groups already pruned, by root tensor (stable across surgery)
  int64_t removed = 0;
  for (;;) {
    auto groups = buildDependencyGroups(work);
    if (!groups) return groups.status();
    const DependencyGroup* next = nullptr;
    for (const auto& g : groups.value())
      if (!g.locked && !done.count(g.rootTensor) && (!filter || filter(g))) {
        next = &g;
        break;
      }
    if (!next) break;
    done.insert(next->rootTensor);
    int64_t count = std::min(static_cast<int64_t>(fraction * static_cast<double>(next->channels)), next->channels - 1);
    if (count <= 0) continue;
    auto scores = groupImportance(work, *next, options);
    if (!scores) return scores.status();
    TOPIARY_RETURN_IF_ERROR(pruneGroupChannels(work, *next, lowestChannels(scores.value(), count)));
    removed += count;
  }
  graph = std::move(work);
  return removed;
}

}  // namespace topiary
