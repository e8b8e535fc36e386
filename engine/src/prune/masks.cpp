// computeMasks: turns a PruneConfig into per-initializer masks. Selection is
// nth_element on scores (linear time), so a whole model takes milliseconds.
#include <algorithm>
#include <cmath>
#include <limits>

#include "prune/mask_util.h"
#include "topiary/prune.h"

namespace topiary {

using namespace prune_detail;

Status validatePruneConfig(const Graph& graph, const PruneConfig& config) {
  auto layers = findPrunableLayers(graph);
  if (config.globalRanking && !(config.globalSparsity >= 0 && config.globalSparsity < 1))
    return Status::badInput("global sparsity " + std::to_string(config.globalSparsity) + " is outside [0, 1)");
  for (const auto& kv : config.layers) {
    const LayerPruneConfig& c = kv.second;
    const PrunableLayer* L = findPrunableLayer(layers, kv.first);
    std::string where = "layer '" + kv.first + "'";
    if (!L) return Status::badInput(where + " is not a prunable layer (a Conv, Gemm or MatMul with a weight initializer)");
    if (!(c.sparsity >= 0 && c.sparsity < 1))
      return Status::badInput(where + ": sparsity " + std::to_string(c.sparsity) + " is outside [0, 1)");
    if (c.granularity == Granularity::NM && !(c.n > 0 && c.n < c.m && c.m <= 32))
      return Status::badInput(where + ": n " + std::to_string(c.n) + " and m " + std::to_string(c.m) +
                              " need 0 < n < m <= 32");
    if (c.granularity == Granularity::Kernel && (L->op != "Conv" || L->kernelSize < 2))
      return Status::badInput(where + ": granularity 'kernel' needs a Conv with a kernel larger than 1x1 (it is " +
                              L->op + ")");
    if ((c.granularity == Granularity::Filter || c.granularity == Granularity::Channel) && L->op != "Conv")
      return Status::badInput(where + ": granularity '" + granularityName(c.granularity) +
                              "' needs a Conv (it is " + L->op + "); use 'neuron'");
    if (c.granularity == Granularity::Neuron && L->op == "Conv")
      return Status::badInput(where + ": granularity 'neuron' is for Gemm/MatMul; use 'filter' on a Conv");
    if (c.criterion == Criterion::BnScale && !isGroupGranularity(c.granularity))
      return Status::badInput(where + ": criterion 'bn_scale' needs granularity filter, channel or neuron (it is '" +
                              granularityName(c.granularity) + "')");
  }
  return Status::ok();
}

Result<Tensor> projectionMask(const PrunableLayer& L, const LayerPruneConfig& cfg, const Tensor& values) {
  if (values.numel() != L.numel()) return Status::badInput("projection: tensor does not match layer '" + L.node + "'");
  Tensor mask(values.shape());
  mask.fill(1.f);
  Granularity g = cfg.granularity == Granularity::Layer ? Granularity::Element : cfg.granularity;
  auto scores = unitScores(L, values, nmScoreGranularity(L, cfg), Criterion::L2);
  if (!scores) return scores.status();
  if (g == Granularity::NM) {
    nmApply(L, cfg, scores.value(), mask.f());
    return mask;
  }
  auto pruned = lowestUnits(scores.value(), unitsToPrune(static_cast<int64_t>(scores->size()), cfg.sparsity));
  zeroUnits(L, g, pruned, mask.f());
  return mask;
}

Result<MaskSet> computeMasks(const Graph& graph, const PruneConfig& config, const MaskOptions& options) {
  TOPIARY_RETURN_IF_ERROR(validatePruneConfig(graph, config));
  MaskBuilder masks(graph);
  auto layers = findPrunableLayers(graph);

  // Which layers take part, resolved to PrunableLayers.
  std::vector<std::pair<const PrunableLayer*, LayerPruneConfig>> active;
  bool needTaylor = false, needGroups = false;
  for (const auto& kv : config.layers) {
    const LayerPruneConfig& c = kv.second;
    if (c.locked || c.granularity == Granularity::Layer) continue;
    if (c.granularity != Granularity::NM && c.sparsity <= 0) continue;
    if (config.globalRanking && c.granularity != Granularity::NM && config.globalSparsity <= 0) continue;
    active.emplace_back(findPrunableLayer(layers, kv.first), c);
    needTaylor |= c.criterion == Criterion::Taylor;
    needGroups |= isGroupGranularity(c.granularity);
  }

  std::vector<DependencyGroup> ownGroups;
  const std::vector<DependencyGroup>* groups = options.groups;
  if (needGroups && !groups) {
    auto g = buildDependencyGroups(graph);
    if (!g) return g.status().withContext("building dependency groups");
    ownGroups = std::move(g.value());
    groups = &ownGroups;
  }

  TaylorSaliency saliency;
  if (needTaylor) {
    if (!options.data) return Status::badInput("criterion 'taylor' needs data to compute gradients (give --data)");
    std::vector<std::string> acts;
    if (groups)
      for (const auto& a : active)
        if (a.second.criterion == Criterion::Taylor && isGroupGranularity(a.second.granularity)) {
          int gi = groupIndexFor(*groups, graph, *a.first, a.second.granularity);
          if (gi >= 0) acts.push_back((*groups)[static_cast<size_t>(gi)].rootTensor);
        }
    auto s = taylorSaliency(graph, *options.data, options.taylorBatches, options.batchSize, acts, options.threads);
    if (!s) return s.status();
    saliency = std::move(s.value());
  }

  // Scores of every active layer's units (or groups' channels).
  std::vector<LayerUnits> units;
  std::vector<bool> groupSeen(groups ? groups->size() : 0, false);
  for (const auto& a : active) {
    if (options.cancel && options.cancel->load()) return Status::cancelled();
    const PrunableLayer& L = *a.first;
    const LayerPruneConfig& c = a.second;
    LayerUnits u;
    u.layer = &L;
    u.config = c;
    if (isGroupGranularity(c.granularity)) {
      int gi = groupIndexFor(*groups, graph, L, c.granularity);
      if (gi < 0)
        return Status::badInput("layer '" + L.node + "': no dependency group carries its " +
                                (c.granularity == Granularity::Channel ? "input channels" : "output units"));
      const DependencyGroup& G = (*groups)[static_cast<size_t>(gi)];
      if (G.locked)
        return Status::badInput("layer '" + L.node + "': its channels cannot be pruned: " + G.lockReason);
      if (groupSeen[static_cast<size_t>(gi)]) continue;  // two producers of one group (residual Add)
      groupSeen[static_cast<size_t>(gi)] = true;
      u.group = &G;
      auto s = groupScores(graph, G, c.criterion, saliency, options.seed);
      if (!s) return s.status().withContext("layer '" + L.node + "'");
      u.scores = std::move(s.value());
      if (options.previous) markPreviousGroup(graph, G, *options.previous, u.scores);
    } else {
      const Tensor* sal = nullptr;
      if (c.criterion == Criterion::Taylor) {
        auto it = saliency.weights.find(L.weight);
        if (it == saliency.weights.end())
          return Status::badInput("layer '" + L.node + "': no gradient reached weight '" + L.weight + "'");
        sal = &it->second;
      }
      const Granularity g = nmScoreGranularity(L, c);  // kernel-wise N:M ranks whole kernels
      auto s = unitScores(L, graph.initializers.at(L.weight), g, c.criterion, sal, options.seed);
      if (!s) return s.status();
      u.scores = std::move(s.value());
      if (options.previous) markPrevious(L, g, *options.previous, u.scores);
    }
    units.push_back(std::move(u));
  }

  if (!config.globalRanking) {
    for (auto& u : units) {
      if (u.config.granularity == Granularity::NM) {
        nmApply(*u.layer, u.config, u.scores, masks.get(u.layer->weight));
        continue;
      }
      int64_t count = static_cast<int64_t>(u.scores.size());
      int64_t k = unitsToPrune(count, u.config.sparsity);
      if (u.group) k = std::min(k, count - 1);  // a group keeps at least one channel
      TOPIARY_RETURN_IF_ERROR(applySelection(graph, u, lowestUnits(u.scores, k), masks));
    }
  } else {
    TOPIARY_RETURN_IF_ERROR(globalSelect(graph, units, config.globalSparsity, masks));
  }
  return masks.finish();
}

}  // namespace topiary
