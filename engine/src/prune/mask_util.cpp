#include "prune/mask_util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace topiary::prune_detail {

float* MaskBuilder::get(const std::string& name) {
  auto it = masks_.find(name);
  if (it == masks_.end()) {
    Tensor m(graph_.initializers.at(name).shape());
    m.fill(1.f);
    it = masks_.emplace(name, std::move(m)).first;
  }
  return it->second.f();
}

MaskSet MaskBuilder::finish() {
  for (auto it = masks_.begin(); it != masks_.end();) {
    if (zeroFraction(it->second) == 0) it = masks_.erase(it);
    else ++it;
  }
  return std::move(masks_);
}

std::vector<int64_t> lowestUnits(const std::vector<float>& scores, int64_t k) {
  int64_t n = static_cast<int64_t>(scores.size());
  k = std::max<int64_t>(0, std::min(k, n));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  if (k == 0) return {};
  auto less = [&](int64_t a, int64_t b) {
    float sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
    return sa < sb || (sa == sb && a < b);
  };
  if (k < n) std::nth_element(idx.begin(), idx.begin() + k, idx.end(), less);
  idx.resize(static_cast<size_t>(k));
  return idx;
}

void zeroUnits(const PrunableLayer& L, Granularity g, const std::vector<int64_t>& units, float* mask) {
  for (int64_t u : units) {
    switch (g) {
      case Granularity::Element:
      case Granularity::NM:
        mask[u] = 0.f;
        break;
      case Granularity::Kernel: {
        int64_t o = u / L.inUnits, c = u % L.inUnits;
        for (int64_t k = 0; k < L.kernelSize; ++k) mask[L.index(o, c, k)] = 0.f;
        break;
      }
      case Granularity::Filter:
      case Granularity::Neuron:
        for (int64_t c = 0; c < L.inUnits; ++c)
          for (int64_t k = 0; k < L.kernelSize; ++k) mask[L.index(u, c, k)] = 0.f;
        break;
      case Granularity::Channel:
        for (int64_t o = 0; o < L.outUnits; ++o)
          for (int64_t k = 0; k < L.kernelSize; ++k) mask[L.index(o, u, k)] = 0.f;
        break;
      case Granularity::Layer:
        for (int64_t i = 0; i < L.numel(); ++i) mask[i] = 0.f;
        break;
    }
  }
}

void nmSelect(const PrunableLayer& L, const std::vector<float>& scores, int n, int m, float* mask) {
  int64_t R = L.inUnits * L.kernelSize;
  std::vector<int64_t> group;
  group.reserve(static_cast<size_t>(m));
  for (int64_t o = 0; o < L.outUnits; ++o)
    for (int64_t start = 0; start < R; start += m) {
      int64_t len = std::min<int64_t>(m, R - start);
      group.clear();
      for (int64_t r = start; r < start + len; ++r) group.push_back(L.index(o, r % L.inUnits, r / L.inUnits));
      int64_t keep = std::min<int64_t>(n, len);
      // Best `keep` first: higher score, ties to the lower index.
      std::partial_sort(group.begin(), group.begin() + keep, group.end(), [&](int64_t a, int64_t b) {
        float sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
        return sa > sb || (sa == sb && a < b);
      });
      for (size_t i = static_cast<size_t>(keep); i < group.size(); ++i) mask[group[i]] = 0.f;
    }
}

void nmSelectKernels(const PrunableLayer& L, const std::vector<float>& scores, int n, int m, float* mask) {
  std::vector<int64_t> group;  // kernel units o * inUnits + c
  group.reserve(static_cast<size_t>(m));
  for (int64_t o = 0; o < L.outUnits; ++o)
    for (int64_t start = 0; start < L.inUnits; start += m) {
      const int64_t len = std::min<int64_t>(m, L.inUnits - start);
      group.clear();
      for (int64_t c = start; c < start + len; ++c) group.push_back(o * L.inUnits + c);
      const int64_t keep = std::min<int64_t>(n, len);
      std::partial_sort(group.begin(), group.begin() + keep, group.end(), [&](int64_t a, int64_t b) {
        float sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
        return sa > sb || (sa == sb && a < b);
      });
      std::vector<int64_t> pruned(group.begin() + keep, group.end());
      zeroUnits(L, Granularity::Kernel, pruned, mask);
    }
}

void nmApply(const PrunableLayer& L, const LayerPruneConfig& c, const std::vector<float>& scores, float* mask) {
  if (nmByKernel(L, c)) nmSelectKernels(L, scores, c.n, c.m, mask);
  else nmSelect(L, scores, c.n, c.m, mask);
}

int groupIndexFor(const std::vector<DependencyGroup>& groups, const Graph& graph, const PrunableLayer& L, Granularity g) {
  if (g == Granularity::Channel) return groupConsumedBy(groups, graph, L.node);
  return groupProducedBy(groups, L.node);
}

Result<std::vector<float>> groupScores(const Graph& graph, const DependencyGroup& G, Criterion c,
                                       const TaylorSaliency& saliency, uint64_t seed) {
  if (c == Criterion::Taylor) {
    // Molchanov et al. 2017: the activation criterion on the group's channels.
    auto it = saliency.activations.find(G.rootTensor);
    if (it != saliency.activations.end() && it->second.numel() == G.channels)
      return std::vector<float>(it->second.f(), it->second.f() + G.channels);
  }
  if (c == Criterion::Taylor) {
    // No activation saliency for this group: sum the weight saliencies
    // |w * dL/dw| over every slice of each channel (Molchanov et al. 2019).
    std::vector<float> out(static_cast<size_t>(G.channels), 0.f);
    for (const auto& sl : G.slices) {
      auto it = saliency.weights.find(sl.tensor);
      if (it == saliency.weights.end()) continue;
      for (int64_t ch = 0; ch < G.channels; ++ch)
        for (int64_t i : sliceElementIndices(it->second.shape(), sl, ch)) out[static_cast<size_t>(ch)] += it->second.f()[i];
    }
    return out;
  }
  ImportanceOptions io;
  io.criterion = criterionName(c);
  io.seed = seed;
  auto s = groupImportance(graph, G, io);
  if (!s) return s.status();
  return std::vector<float>(s->begin(), s->end());
}

void markPrevious(const PrunableLayer& L, Granularity g, const MaskSet& previous, std::vector<float>& scores) {
  auto it = previous.find(L.weight);
  if (it == previous.end() || it->second.numel() != L.numel()) return;
  const float* pm = it->second.f();
  const float ninf = -std::numeric_limits<float>::infinity();
  if (g == Granularity::Element || g == Granularity::NM) {
    for (int64_t i = 0; i < L.numel(); ++i)
      if (pm[i] == 0.f) scores[static_cast<size_t>(i)] = ninf;
    return;
  }
  if (g == Granularity::Kernel) {
    for (int64_t o = 0; o < L.outUnits; ++o)
      for (int64_t c = 0; c < L.inUnits; ++c) {
        bool all = true;
        for (int64_t k = 0; k < L.kernelSize && all; ++k) all = pm[L.index(o, c, k)] == 0.f;
        if (all) scores[static_cast<size_t>(o * L.inUnits + c)] = ninf;
      }
  }
}

void markPreviousGroup(const Graph& graph, const DependencyGroup& G, const MaskSet& previous, std::vector<float>& scores) {
  for (const auto& s : G.slices) {
    if (s.kind != ChannelSlice::Kind::ProducerOut) continue;
    auto it = previous.find(s.tensor);
    auto wi = graph.initializers.find(s.tensor);
    if (it == previous.end() || wi == graph.initializers.end()) continue;
    for (int64_t c = 0; c < G.channels && c < static_cast<int64_t>(scores.size()); ++c) {
      auto idx = sliceElementIndices(wi->second.shape(), s, c);
      bool all = !idx.empty();
      for (int64_t i : idx) all = all && it->second.f()[i] == 0.f;
      if (all) scores[static_cast<size_t>(c)] = -std::numeric_limits<float>::infinity();
    }
    return;  // one producer slice decides
  }
}

Status applySelection(const Graph& graph, const LayerUnits& u, const std::vector<int64_t>& pruned, MaskBuilder& masks) {
  if (pruned.empty()) return Status::ok();
  if (!u.group) {
    zeroUnits(*u.layer, u.config.granularity, pruned, masks.get(u.layer->weight));
    return Status::ok();
  }
  for (const auto& s : u.group->slices) {
    auto wi = graph.initializers.find(s.tensor);
    if (wi == graph.initializers.end()) continue;
    float* m = masks.get(s.tensor);
    for (int64_t c : pruned)
      for (int64_t i : sliceElementIndices(wi->second.shape(), s, c)) m[i] = 0.f;
  }
  return Status::ok();
}

Status globalSelect(const Graph& graph, std::vector<LayerUnits>& units, double sparsity, MaskBuilder& masks) {
  // Pools: (granularity kind, criterion) -> members.
  std::map<std::pair<int, int>, std::vector<size_t>> pools;
  for (size_t i = 0; i < units.size(); ++i) {
    auto& u = units[i];
    if (u.config.granularity == Granularity::NM) {
      nmApply(*u.layer, u.config, u.scores, masks.get(u.layer->weight));
      continue;
    }
    int kind = u.group ? 100 : static_cast<int>(u.config.granularity);
    pools[{kind, static_cast<int>(u.config.criterion)}].push_back(i);
  }
  for (const auto& kv : pools) {
    std::vector<float> all;
    std::vector<std::pair<size_t, int64_t>> owner;  // (units index, unit)
    for (size_t i : kv.second) {
      auto& u = units[i];
      double norm = 1.0;
      if (u.group) {
        double ss = 0;
        for (float s : u.scores)
          if (std::isfinite(s)) ss += static_cast<double>(s) * s;
        norm = ss > 0 ? std::sqrt(ss) : 1.0;
      }
      // A group keeps its best channel: leave it out of the pool.
      int64_t best = -1;
      if (u.group)
        best = static_cast<int64_t>(std::max_element(u.scores.begin(), u.scores.end()) - u.scores.begin());
      for (size_t j = 0; j < u.scores.size(); ++j) {
        if (static_cast<int64_t>(j) == best) continue;
        all.push_back(static_cast<float>(u.scores[j] / norm));
        owner.emplace_back(i, static_cast<int64_t>(j));
      }
    }
    int64_t total = static_cast<int64_t>(all.size()) + (kv.first.first == 100 ? static_cast<int64_t>(kv.second.size()) : 0);
    int64_t k = std::min<int64_t>(unitsToPrune(total, sparsity), static_cast<int64_t>(all.size()));
    std::map<size_t, std::vector<int64_t>> chosen;
    for (int64_t p : lowestUnits(all, k)) chosen[owner[static_cast<size_t>(p)].first].push_back(owner[static_cast<size_t>(p)].second);
    for (auto& c : chosen) TOPIARY_RETURN_IF_ERROR(applySelection(graph, units[c.first], c.second, masks));
  }
  return Status::ok();
}

}  // namespace topiary::prune_detail
