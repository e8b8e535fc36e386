// ADMM pruning (Zhang et al. 2018; ADMM-NN-S): the sparsity constraint enters
// training as a proximal penalty rho/2 ||W - Z + U||^2 whose gradient
// rho (W - Z + U) is added in TrainHooks::afterBackward. Z is the Euclidean
// projection of W + U onto the constraint (keep the largest units), U the
// scaled dual variable. Afterwards the weights are hard-pruned to Z's support
// and retrained with the mask fixed.
#include <cmath>
#include <memory>

#include "prune/methods.h"

namespace topiary::prune_detail {

namespace {
struct AdmmVars {
  const PrunableLayer* layer = nullptr;
  LayerPruneConfig config;
  Tensor Z, U;
};

// Z = mask(W + U) * (W + U).
Status projectZ(const Graph& g, AdmmVars& v) {
  const Tensor& W = g.initializers.at(v.layer->weight);
  Tensor wu = W;
  for (int64_t i = 0; i < wu.numel(); ++i) wu.f()[i] += v.U.f()[i];
  auto mask = projectionMask(*v.layer, v.config, wu);
  if (!mask) return mask.status();
  for (int64_t i = 0; i < wu.numel(); ++i) wu.f()[i] *= mask->f()[i];
  v.Z = std::move(wu);
  return Status::ok();
}

// Global ranking constrains the count over all layers together, so every
// layer's W + U is ranked at once (computeMasks' global selection on a copy of
// the graph holding W + U) instead of each layer at the global rate.
Status projectZGlobal(const Graph& g, std::vector<AdmmVars>& vars, const PruneConfig& l2) {
  Graph wu = g;
  for (auto& v : vars) {
    Tensor& t = wu.initializers.at(v.layer->weight);
    for (int64_t i = 0; i < t.numel(); ++i) t.f()[i] += v.U.f()[i];
  }
  auto m = computeMasks(wu, l2, MaskOptions{});
  if (!m) return m.status();
  for (auto& v : vars) {
    Tensor z = wu.initializers.at(v.layer->weight);
    auto it = m->find(v.layer->weight);
    if (it != m->end())
      for (int64_t i = 0; i < z.numel(); ++i) z.f()[i] *= it->second.f()[i];
    v.Z = std::move(z);
  }
  return Status::ok();
}
}  // namespace

Status runAdmm(Graph& graph, const PruneConfig& config, const Recipe& r, const PruneRunOptions& o, MaskSet& masks,
               std::vector<std::string>& log) {
  if (!o.trainData) return Status::badInput("method 'admm' trains the model: it needs training data (finetune.data)");
  auto layers = findPrunableLayers(graph);
  auto vars = std::make_shared<std::vector<AdmmVars>>();
  for (const auto& kv : config.layers) {
    const LayerPruneConfig& c = kv.second;
    if (c.locked || (c.granularity != Granularity::NM && c.sparsity <= 0)) continue;
    AdmmVars v;
    v.layer = findPrunableLayer(layers, kv.first);
    v.config = c;
    const Tensor& W = graph.initializers.at(v.layer->weight);
    v.U = Tensor(W.shape());
    vars->push_back(std::move(v));
  }
  // The projection is Euclidean: units ranked by L2 whatever the criterion.
  PruneConfig l2 = config;
  for (auto& kv : l2.layers) kv.second.criterion = Criterion::L2;
  auto project = [&]() -> Status {
    if (config.globalRanking) return projectZGlobal(graph, *vars, l2);
    for (auto& v : *vars) TOPIARY_RETURN_IF_ERROR(projectZ(graph, v));
    return Status::ok();
  };
  TOPIARY_RETURN_IF_ERROR(project());

  // Shared with the hook because the schedule changes it between iterations.
  auto rhoNow = std::make_shared<float>(r.admm.rho);
  TrainHooks hooks;
  hooks.afterBackward = [vars, rhoNow](Graph& g, std::map<std::string, Tensor>& grads) {
    const float rho = *rhoNow;
    for (auto& v : *vars) {
      auto it = grads.find(v.layer->weight);
      if (it == grads.end()) continue;
      const float* w = g.initializers.at(v.layer->weight).f();
      float* gr = it->second.f();
      const float* z = v.Z.f();
      const float* u = v.U.f();
      for (int64_t i = 0; i < it->second.numel(); ++i) gr[i] += rho * (w[i] - z[i] + u[i]);
    }
  };
  for (int it = 1; it <= r.admm.iterations; ++it) {
    TrainOptions to = finetuneOptions(r, o, r.admm.epochs);
    to.seed = o.seed + static_cast<uint64_t>(it);
    std::string stage = "admm " + std::to_string(it) + "/" + std::to_string(r.admm.iterations);
    TOPIARY_RETURN_IF_ERROR(train(graph, *o.trainData, to, nullptr, hooks, trainProgress(o, stage, it, r.admm.iterations), o.cancel));
    double gap = 0, norm = 0;
    TOPIARY_RETURN_IF_ERROR(project());
    for (auto& v : *vars) {
      const float* w = graph.initializers.at(v.layer->weight).f();
      for (int64_t i = 0; i < v.U.numel(); ++i) {
        float d = w[i] - v.Z.f()[i];
        v.U.f()[i] += d;
        gap += static_cast<double>(d) * d;
        norm += static_cast<double>(w[i]) * w[i];
      }
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s: rho %.4g, ||W - Z|| / ||W|| = %.4f", stage.c_str(), static_cast<double>(*rhoNow),
                  norm > 0 ? std::sqrt(gap / norm) : 0.0);
    log.push_back(buf);
    if (r.admm.rhoGrowth != 1.f && it < r.admm.iterations) {
      // Scaled form: U = y / rho. Keeping the dual y while rho grows means
      // dividing U by the growth (Boyd et al. 2011, section 3.4.1).
      *rhoNow *= r.admm.rhoGrowth;
      for (auto& v : *vars)
        for (int64_t i = 0; i < v.U.numel(); ++i) v.U.f()[i] /= r.admm.rhoGrowth;
    }
  }
  // Hard pruning to the support of the projection of W, then masked retraining.
  masks.clear();
  for (auto& v : *vars) {
    auto m = projectionMask(*v.layer, v.config, graph.initializers.at(v.layer->weight));
    if (!m) return m.status();
    masks[v.layer->weight] = std::move(m.value());
  }
  // Group granularities also zero the coupled slices (bias, BN, next layer);
  // global ranking selects across layers.
  bool groups = false;
  for (const auto& v : *vars) groups |= isGroupGranularity(v.config.granularity);
  if (groups || config.globalRanking) {
    MaskOptions mo;
    auto gm = computeMasks(graph, l2, mo);
    if (!gm) return gm.status();
    masks = std::move(gm.value());
  }
  TOPIARY_RETURN_IF_ERROR(applyMasks(graph, masks));
  if (r.finetune.epochs > 0) {
    TrainOptions to = finetuneOptions(r, o, r.finetune.epochs);
    TOPIARY_RETURN_IF_ERROR(train(graph, *o.trainData, to, &masks, {}, trainProgress(o, "masked retraining", 1, 1), o.cancel));
  }
  return Status::ok();
}

}  // namespace topiary::prune_detail
