// Dynamic network surgery (Guo, Yao & Chen 2016). The forward pass uses
// W * T; the gradient taken there updates every weight of W, pruned or not
// (straight-through), and every `update_every` steps T is recomputed with
// hysteresis: |w| < a -> 0, |w| >= b -> 1, a <= |w| < b -> unchanged, so a
// pruned weight that grows past b is spliced back. a is the layer's target
// sparsity quantile of |W| at that moment and b = a (1 + hysteresis).
#include <algorithm>
#include <cmath>
#include <memory>

#include "prune/methods.h"

namespace topiary::prune_detail {

namespace {
struct DnsLayer {
  const PrunableLayer* layer = nullptr;
  double sparsity = 0;
  Tensor dense;  // W, the weights the optimizer updates
  Tensor mask;   // T
  DnsLayerStats stats;
};

// The k-th smallest |w| (k = sparsity * n) of a weight.
float quantileMagnitude(const Tensor& w, double sparsity) {
  std::vector<float> a(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) a[static_cast<size_t>(i)] = std::fabs(w.f()[i]);
  int64_t k = unitsToPrune(w.numel(), sparsity);
  if (k <= 0) return 0.f;
  std::nth_element(a.begin(), a.begin() + (k - 1), a.end());
  return std::nextafter(a[static_cast<size_t>(k - 1)], INFINITY);  // |w| < a prunes exactly the k smallest (ties aside)
}

void updateMask(DnsLayer& d, float hysteresis, bool first) {
  const Tensor& w = d.dense;
  float a = quantileMagnitude(w, d.sparsity);
  float b = a * (1.f + hysteresis);
  float* t = d.mask.f();
  for (int64_t i = 0; i < w.numel(); ++i) {
    float m = std::fabs(w.f()[i]);
    float before = t[i];
    if (first) t[i] = m < a ? 0.f : 1.f;
    else if (m < a) t[i] = 0.f;
    else if (m >= b) t[i] = 1.f;
    if (!first && before == 0.f && t[i] == 1.f) ++d.stats.spliceBacks;
    if (!first && before == 1.f && t[i] == 0.f) ++d.stats.prunings;
  }
}
}  // namespace

Status runDns(Graph& graph, const PruneConfig& config, const Recipe& r, const PruneRunOptions& o, MaskSet& masks,
              std::vector<DnsLayerStats>& stats) {
  if (!o.trainData) return Status::badInput("method 'dns' trains the model: it needs training data (finetune.data)");
  if (r.finetune.epochs <= 0) return Status::badInput("method 'dns' recomputes masks while fine-tuning: set finetune.epochs > 0");
  auto layers = findPrunableLayers(graph);
  auto state = std::make_shared<std::vector<DnsLayer>>();
  for (const auto& kv : config.layers) {
    const LayerPruneConfig& c = kv.second;
    if (c.locked || c.sparsity <= 0) continue;
    if (c.granularity != Granularity::Element) {
      // Name the recipe key that set the granularity: from "default" it
      // reaches every layer, and naming the first one (a layer the user
      // never wrote) hid where to change it.
      std::string key = "default.granularity";
      Granularity written = r.defaults.granularity;
      for (const auto& e : r.layers) {
        const auto* named = e.second.granularity ? findPrunableLayer(layers, e.first) : nullptr;
        if (named && named->node == kv.first) {
          key = "layers." + e.first + ".granularity";
          written = *e.second.granularity;
        }
      }
      return Status::badInput("recipe key '" + key +
                              "': method 'dns' prunes single weights and needs granularity "
                              "element, not '" +
                              granularityName(written) + "' (layer '" + kv.first + "')");
    }
    DnsLayer d;
    d.layer = findPrunableLayer(layers, kv.first);
    d.sparsity = config.globalRanking ? config.globalSparsity : c.sparsity;
    d.dense = graph.initializers.at(d.layer->weight);
    d.mask = Tensor(d.dense.shape());
    d.stats.node = d.layer->node;
    d.stats.weights = d.dense.numel();
    updateMask(d, r.dns.hysteresis, true);
    state->push_back(std::move(d));
  }
  float hyst = r.dns.hysteresis;
  int every = std::max(1, r.dns.updateEvery);
  TrainHooks hooks;
  hooks.beforeForward = [state](Graph& g) {
    for (auto& d : *state) {
      Tensor& w = g.initializers.at(d.layer->weight);
      d.dense = w;  // the optimizer's latest dense weights
      for (int64_t i = 0; i < w.numel(); ++i) w.f()[i] *= d.mask.f()[i];
    }
  };
  hooks.afterBackward = [state](Graph& g, std::map<std::string, Tensor>&) {
    // Straight-through: dL/d(W*T) updates W everywhere, so restore W before the step.
    for (auto& d : *state) g.initializers.at(d.layer->weight) = d.dense;
  };
  hooks.afterStep = [state, hyst, every](Graph& g, int64_t step) {
    if (step % every != 0) return;
    for (auto& d : *state) {
      d.dense = g.initializers.at(d.layer->weight);
      updateMask(d, hyst, false);
    }
  };
  TrainOptions to = finetuneOptions(r, o, r.finetune.epochs);
  TOPIARY_RETURN_IF_ERROR(train(graph, *o.trainData, to, nullptr, hooks, trainProgress(o, "dns", 1, 1), o.cancel));
  masks.clear();
  for (auto& d : *state) {
    d.dense = graph.initializers.at(d.layer->weight);
    updateMask(d, hyst, false);
    d.stats.pruned = 0;
    for (int64_t i = 0; i < d.mask.numel(); ++i) d.stats.pruned += d.mask.f()[i] == 0.f;
    masks[d.layer->weight] = d.mask;
    stats.push_back(d.stats);
  }
  return applyMasks(graph, masks);
}

}  // namespace topiary::prune_detail
