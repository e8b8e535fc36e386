// resolveRecipe: "default" + "layers" -> one LayerPruneConfig per prunable layer.
#include <algorithm>
#include <set>

#include "prune/mask_util.h"
#include "topiary/recipe.h"

namespace topiary {

namespace {

void apply(LayerPruneConfig& c, const LayerOverride& o) {
  if (o.granularity) c.granularity = *o.granularity;
  if (o.sparsity) c.sparsity = *o.sparsity;
  if (o.criterion) c.criterion = *o.criterion;
  if (o.n) c.n = *o.n;
  if (o.m) c.m = *o.m;
  if (o.nmKernel) c.nmKernel = *o.nmKernel;
  if (o.locked) c.locked = *o.locked;
}

// The default granularity as it applies to one operator; false when it does not apply.
bool adaptDefault(const PrunableLayer& L, Granularity& g, std::string& why) {
  bool conv = L.op == "Conv";
  switch (g) {
    case Granularity::Filter:
      if (!conv) g = Granularity::Neuron;
      return true;
    case Granularity::Neuron:
      if (conv) g = Granularity::Filter;
      return true;
    case Granularity::Channel:
      if (!conv) {
        why = "granularity 'channel' applies to Conv layers";
        return false;
      }
      return true;
    case Granularity::Kernel:
      if (!conv || L.kernelSize < 2) {
        why = "granularity 'kernel' needs a Conv with a kernel larger than 1x1";
        return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

Result<ResolvedRecipe> resolveRecipe(const Graph& graph, const Recipe& recipe, const std::vector<DependencyGroup>* groups) {
  ResolvedRecipe out;
  auto layers = findPrunableLayers(graph);
  // Explicit entries: each must name a layer (or, for granularity layer, a removable node).
  std::map<std::string, const LayerOverride*> explicitFor;  // node name -> override
  for (const auto& kv : recipe.layers) {
    const PrunableLayer* L = findPrunableLayer(layers, kv.first);
    LayerPruneConfig c = recipe.defaults;
    apply(c, kv.second);
    if (c.granularity == Granularity::Layer) {
      int ni = graph.findNode(kv.first);
      if (ni < 0 && L) ni = graph.findNode(L->node);
      if (ni < 0) return Status::badInput("recipe key 'layers." + kv.first + "': no node named '" + kv.first + "'");
      if (c.sparsity > 0 && !c.locked) {
        std::string node = graph.nodes[static_cast<size_t>(ni)].label();
        Status st = checkLayerRemoval(graph, node);
        if (!st) return st.withContext("recipe key 'layers." + kv.first + "'");
        out.removeLayers.push_back(node);
      } else if (!c.locked) {
        // Sparsity is what removes it (0 keeps, anything above removes),
        // inherited from the default when the entry has none.
        out.notes.push_back(kv.first + ": granularity 'layer' with sparsity 0 keeps the layer; give it a sparsity " +
                            "above 0 (any) to remove it");
      }
      continue;
    }
    if (!L) {
      std::string names;
      for (const auto& l : layers) names += (names.empty() ? "" : ", ") + l.node;
      return Status::badInput("recipe key 'layers." + kv.first + "': no prunable layer named '" + kv.first +
                              "' (prunable layers: " + names + ")");
    }
    if (explicitFor.count(L->node))
      return Status::badInput("recipe key 'layers." + kv.first + "': layer '" + L->node + "' is configured twice");
    explicitFor[L->node] = &kv.second;
  }
  if (recipe.defaults.granularity == Granularity::Layer && recipe.defaults.sparsity > 0)
    return Status::badInput("recipe key 'default.granularity': \"layer\" removes whole layers; name them under 'layers'");

  std::vector<DependencyGroup> own;
  auto needGroups = [&]() -> Status {
    if (groups) return Status::ok();
    auto g = buildDependencyGroups(graph);
    if (!g) return g.status().withContext("building dependency groups");
    own = std::move(g.value());
    groups = &own;
    return Status::ok();
  };

  std::set<int> groupsTaken;
  int bnScaleSkipped = 0;  // layers the default's bn_scale left dense
  for (const auto& L : layers) {
    auto ex = explicitFor.find(L.node);
    LayerPruneConfig c = recipe.defaults;
    bool fromDefault = ex == explicitFor.end() || !ex->second->granularity;
    if (ex != explicitFor.end()) apply(c, *ex->second);
    if (fromDefault) {
      std::string why;
      if (!adaptDefault(L, c.granularity, why)) {
        if (c.sparsity > 0) out.notes.push_back(L.node + ": " + why + "; left dense");
        continue;
      }
    }
    if (c.granularity == Granularity::Layer) continue;
    // bn_scale ranks whole channels: on a single-weight granularity it is an
    // error naming the key that set it (it named a layer the user never wrote).
    if (c.criterion == Criterion::BnScale && !isGroupGranularity(c.granularity)) {
      const bool criterionFromDefault = ex == explicitFor.end() || !ex->second->criterion;
      const std::string key = criterionFromDefault && fromDefault ? "default.criterion"
                              : criterionFromDefault              ? "layers." + L.node + ".granularity"
                                                                  : "layers." + L.node + ".criterion";
      return Status::badInput("recipe key '" + key +
                              "': criterion bn_scale ranks whole channels and needs granularity "
                              "filter, channel or neuron (layer '" +
                              L.node + "' gets '" + granularityName(c.granularity) + "')");
    }
    bool prunes = !c.locked && (c.granularity == Granularity::NM || c.sparsity > 0);
    if (prunes && isGroupGranularity(c.granularity)) {
      TOPIARY_RETURN_IF_ERROR(needGroups());
      int gi = prune_detail::groupIndexFor(*groups, graph, L, c.granularity);
      std::string reason;
      if (gi < 0) reason = "no dependency group carries its channels";
      else if ((*groups)[static_cast<size_t>(gi)].locked) reason = (*groups)[static_cast<size_t>(gi)].lockReason;
      if (!reason.empty()) {
        if (!fromDefault || (ex != explicitFor.end() && ex->second->sparsity))
          return Status::badInput("recipe key 'layers." + L.node + "': layer '" + L.node + "' cannot be pruned at granularity '" +
                                  granularityName(c.granularity) + "': " + reason);
        out.notes.push_back(L.node + ": " + granularityName(c.granularity) + " pruning does not apply (" + reason +
                            "); left dense");
        continue;
      }
      // bn_scale from the default on a group without BatchNorm (a
      // squeeze-excite or a plain Conv): left dense, like a default
      // granularity that does not apply. Named for the layer, it is an error.
      if (c.criterion == Criterion::BnScale && !groupHasBatchNorm(graph, (*groups)[static_cast<size_t>(gi)])) {
        const bool criterionFromDefault = ex == explicitFor.end() || !ex->second->criterion;
        if (!criterionFromDefault)
          return Status::badInput("recipe key 'layers." + L.node + ".criterion': layer '" + L.node +
                                  "' has no BatchNormalization in its dependency group, so bn_scale cannot rank it");
        if (c.sparsity > 0) {
          out.notes.push_back(L.node + ": criterion bn_scale does not apply (no BatchNormalization in its dependency "
                              "group); left dense");
          ++bnScaleSkipped;
        }
        continue;
      }
      if (!groupsTaken.insert(gi).second) {
        out.notes.push_back(L.node + ": shares its dependency group with an earlier layer; pruned with it");
        continue;
      }
    }
    out.config.layers[L.node] = c;
  }
  if (bnScaleSkipped > 0 &&
      std::none_of(out.config.layers.begin(), out.config.layers.end(),
                   [](const auto& kv) { return kv.second.criterion == Criterion::BnScale && kv.second.sparsity > 0; }))
    return Status::badInput("recipe key 'default.criterion': bn_scale ranks BatchNormalization scales, and no layer of "
                            "this model that the default prunes has one");
  out.config.globalRanking = recipe.globalRanking;
  out.config.globalSparsity = recipe.defaults.sparsity;
  Status st = validatePruneConfig(graph, out.config);
  if (!st) return st.withContext("recipe");
  return out;
}

}  // namespace topiary
