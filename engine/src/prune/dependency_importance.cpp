// Channel importance of a dependency group: one score per channel,
// aggregated over every slice the channel owns (Torch-Pruning's "group
// importance"): removing a channel removes all of them, so all of them count.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "prune/dependency_internal.h"
#include "topiary/dependency.h"

namespace topiary {

namespace {

bool isBnScale(const Graph& g, const ChannelSlice& s) {
  int idx = depdetail::findNodeByLabel(g, s.node);
  if (idx < 0) return false;
  const Node& n = g.nodes[static_cast<size_t>(idx)];
  return n.opType == "BatchNormalization" && n.input(1) == s.tensor;
}

// A deterministic uniform score in [0, 1) per (seed, channel): splitmix64.
double randomScore(uint64_t seed, int64_t channel) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(channel) + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / 9007199254740992.0;
}

}  // namespace

bool groupHasBatchNorm(const Graph& graph, const DependencyGroup& group) {
  return std::any_of(group.slices.begin(), group.slices.end(),
                     [&](const ChannelSlice& s) { return isBnScale(graph, s); });
}

Result<std::vector<double>> groupImportance(const Graph& graph, const DependencyGroup& group,
                                            const ImportanceOptions& options) {
  const std::string& crit = options.criterion;
  const size_t n = static_cast<size_t>(std::max<int64_t>(group.channels, 0));
  if (crit == "random") {
    std::vector<double> out(n);
    for (size_t c = 0; c < n; ++c) out[c] = randomScore(options.seed, static_cast<int64_t>(c));
    return out;
  }
  if (crit != "l1" && crit != "l2" && crit != "bn_scale" && crit != "taylor")
    return Status::badInput("unknown importance criterion '" + crit + "' (expected l1, l2, bn_scale, taylor or random)");
  std::vector<double> agg(n, options.aggregation == Aggregation::Max ? -1.0 : 0.0);
  int used = 0;
  for (const auto& s : group.slices) {
    if (crit == "bn_scale" ? !isBnScale(graph, s)
                           : (options.producersOnly && s.kind != ChannelSlice::Kind::ProducerOut))
      continue;
    auto it = graph.initializers.find(s.tensor);
    if (it == graph.initializers.end())
      return Status::badInput("initializer '" + s.tensor + "' of the group is not in the graph; rebuild the groups");
    const Tensor& w = it->second;
    if (w.dtype() != DType::Float)
      return Status::unsupported("initializer '" + s.tensor + "' is " + dtypeName(w.dtype()) +
                                 "; importance needs float32 weights");
    const Tensor* grad = nullptr;
    if (crit == "taylor") {
      grad = options.gradientOf ? options.gradientOf(s.tensor) : nullptr;
      if (!grad || grad->shape() != w.shape() || grad->dtype() != DType::Float)
        return Status::badInput("the taylor criterion needs the gradient of initializer '" + s.tensor + "'");
    }
    for (size_t c = 0; c < n; ++c) {
      double acc = 0;
      for (int64_t i : sliceElementIndices(w.shape(), s, static_cast<int64_t>(c))) {
        double v = w.f()[i];
        if (crit == "l2") acc += v * v;
        else if (crit == "taylor") acc += std::fabs(v * grad->f()[i]);
        else acc += std::fabs(v);
      }
      if (crit == "l2") acc = std::sqrt(acc);
      agg[c] = options.aggregation == Aggregation::Max ? std::max(agg[c], acc) : agg[c] + acc;
    }
    ++used;
  }
  if (used == 0) {
    if (crit == "bn_scale")
      return Status::badInput("group " + std::to_string(group.id) + " (" + group.rootTensor +
                              ") has no BatchNormalization, so the bn_scale criterion does not apply");
    return Status::badInput("group " + std::to_string(group.id) + " (" + group.rootTensor +
                            ") has no weights to score");
  }
  if (options.aggregation == Aggregation::Mean)
    for (auto& v : agg) v /= used;
  return agg;
}

std::vector<int64_t> lowestChannels(const std::vector<double>& scores, int64_t count) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  count = std::clamp<int64_t>(count, 0, static_cast<int64_t>(scores.size()));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return scores[static_cast<size_t>(a)] < scores[static_cast<size_t>(b)];
  });
  order.resize(static_cast<size_t>(count));
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace topiary
