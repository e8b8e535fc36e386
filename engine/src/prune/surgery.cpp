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
#include <cstring>
#include <map>
#include <set>

#include "prune/dependency_internal.h"
#include "topiary/dependency.h"
#include "topiary/executor.h"
#include "topiary/prune_run.h"

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
  // One past the last index of the last channel's last run.
  const bool wellFormed = s.inner > 0 && s.repeat >= 1 && (s.repeat == 1 || s.period >= s.inner) && s.offset >= 0;
  const int64_t end = s.offset + channels * s.inner + (channels > 0 ? (s.repeat - 1) * s.period : 0);
  if (s.axis < 0 || s.axis >= static_cast<int>(shape.size()) || !wellFormed || end > shape[static_cast<size_t>(s.axis)])
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

namespace {

// The graph's shapes after surgery: inferShapes at batch 1 on ONE thread.
// With every core, on a small graph and a busy machine the threads'
// fork/join cost 60-160 ms per call against 0.2-0.7 ms on one thread
// (resnet8, mobilenet-tiny). The old shapes are dropped first: tensors the
// surgery removed must not keep an entry.
Status reinferShapes(Graph& g) {
  ExecutorOptions eo;
  eo.threads = 1;
  g.valueInfo.clear();
  return inferShapes(g, 1, eo);
}

// Removes the listed channels of several groups of ONE analysis from `copy`
// in a single pass: every index is dropped in the coordinates of the graph
// the groups were built on (the groups' slices are disjoint, so the drops
// commute), then attributes are updated and shapes inferred once. Doing the
// groups one at a time would need a fresh analysis after each (the indices
// shift), which is what made removing the channels of a whole model slow.
Status removeChannels(Graph& copy, const std::vector<std::pair<const DependencyGroup*, std::vector<int64_t>>>& work) {
  std::map<std::string, std::map<int, std::set<int64_t>>> drop;  // initializer -> axis -> indices
  for (const auto& gw : work) {
    const DependencyGroup& group = *gw.first;
    TOPIARY_RETURN_IF_ERROR(checkRequest(group, gw.second, true));
    for (const auto& s : group.slices) {
      TOPIARY_RETURN_IF_ERROR(checkSliceFits(copy, s, group.channels));
      auto& along = drop[s.tensor][s.axis];
      for (int64_t c : gw.second)
        for (int64_t j : sliceAxisIndices(s, c)) along.insert(j);
    }
  }
  for (const auto& td : drop) {
    Tensor& t = copy.initializers.at(td.first);
    for (const auto& ad : td.second) {
      const size_t axis = static_cast<size_t>(ad.first);
      std::vector<bool> keep(static_cast<size_t>(t.shape()[axis]), true);
      for (int64_t j : ad.second) keep[static_cast<size_t>(j)] = false;
      t = dropAlongAxis(t, axis, keep);
    }
  }
  for (const auto& gw : work)
    for (const auto& label : gw.first->attrUpdates) {
      int idx = depdetail::findNodeByLabel(copy, label);
      if (idx < 0)
        return Status::badInput("node '" + label + "' of the group is not in the graph; rebuild the groups");
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
  return reinferShapes(copy);
}

// True when channel c is zero in every slice of the group (how computeMasks
// leaves a pruned channel: BN variances included).
bool channelAllZero(const Graph& g, const DependencyGroup& G, int64_t c) {
  for (const auto& s : G.slices) {
    auto it = g.initializers.find(s.tensor);
    if (it == g.initializers.end() || it->second.dtype() != DType::Float) continue;
    for (int64_t i : sliceElementIndices(it->second.shape(), s, c))
      if (it->second.f()[i] != 0.f) return false;
  }
  return true;
}

}  // namespace

Status pruneGroupChannels(Graph& graph, const DependencyGroup& group, const std::vector<int64_t>& channelsToRemove) {
  TOPIARY_RETURN_IF_ERROR(checkRequest(group, channelsToRemove, true));
  if (channelsToRemove.empty()) return Status::ok();
  Graph copy = graph;
  Status st = removeChannels(copy, {{&group, channelsToRemove}});
  if (!st.isOk())
    return st.withContext("the graph is invalid after removing " + std::to_string(channelsToRemove.size()) +
                          " channels of group " + std::to_string(group.id) + " (" + group.rootTensor + ")");
  graph = std::move(copy);
  return Status::ok();
}

Result<int64_t> removeMaskedChannels(Graph& graph, const PruneConfig& config) {
  // Layer names whose groups may shrink: producers (filter/neuron) or consumers (channel).
  std::set<std::string> producers, consumers;
  for (const auto& kv : config.layers) {
    if (kv.second.locked) continue;
    if (kv.second.granularity == Granularity::Filter || kv.second.granularity == Granularity::Neuron)
      producers.insert(kv.first);
    if (kv.second.granularity == Granularity::Channel) consumers.insert(kv.first);
  }
  if (producers.empty() && consumers.empty()) return int64_t(0);
  auto groups = buildDependencyGroups(graph);
  if (!groups) return groups.status().withContext("physical pruning");
  std::vector<std::pair<const DependencyGroup*, std::vector<int64_t>>> work;
  int64_t removed = 0;
  for (const auto& G : groups.value()) {
    if (G.locked) continue;
    bool targeted = false;
    for (const auto& p : G.producers) targeted |= producers.count(p) != 0;
    for (const auto& c : G.consumers) targeted |= consumers.count(c) != 0;
    if (!targeted) continue;
    std::vector<int64_t> zero;
    for (int64_t c = 0; c < G.channels; ++c)
      if (channelAllZero(graph, G, c)) zero.push_back(c);
    if (zero.empty()) continue;
    if (static_cast<int64_t>(zero.size()) == G.channels) zero.pop_back();  // keep one channel
    removed += static_cast<int64_t>(zero.size());
    work.emplace_back(&G, std::move(zero));
  }
  if (work.empty()) return int64_t(0);
  Graph copy = graph;
  Status st = removeChannels(copy, work);
  if (!st.isOk()) return st.withContext("physical pruning: the graph is invalid after removing the masked channels");
  graph = std::move(copy);
  return removed;
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
