// Internal helpers of computeMasks (engine/src/prune/): unit selection,
// group scores and mask writing. Not a public API.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "topiary/dependency.h"
#include "topiary/prune.h"

namespace topiary::prune_detail {

// Masks created on first use (all ones), returned with only the tensors that got a zero.
class MaskBuilder {
 public:
  explicit MaskBuilder(const Graph& g) : graph_(g) {}
  float* get(const std::string& initializer);
  MaskSet finish();

 private:
  const Graph& graph_;
  MaskSet masks_;
};

// One layer's (or group's) scored units.
struct LayerUnits {
  const PrunableLayer* layer = nullptr;
  LayerPruneConfig config;
  const DependencyGroup* group = nullptr;  // group granularities
  std::vector<float> scores;
};

// Indices of the k lowest scores (ties: lower index first), any order.
std::vector<int64_t> lowestUnits(const std::vector<float>& scores, int64_t k);
// Zeros the elements of the given units of a layer's weight mask.
void zeroUnits(const PrunableLayer& L, Granularity g, const std::vector<int64_t>& units, float* mask);
// N:M: keeps the n best of every m consecutive weights along the reduction
// dimension, taken input-channel-fastest (channel c at kernel position k is
// r = k*inUnits + c), so groups run across input channels as sparse tensor
// cores want; a shorter tail group keeps min(n, its length).
void nmSelect(const PrunableLayer& L, const std::vector<float>& scores, int n, int m, float* mask);
// Kernel-wise N:M ("nm_pattern": "kernel"): of every m consecutive input
// channels of a filter, the n kernels with the best scores (one score per
// kernel, o * inUnits + c, as unitScores gives for granularity kernel) are
// kept whole; a shorter tail group keeps min(n, its length).
void nmSelectKernels(const PrunableLayer& L, const std::vector<float>& scores, int n, int m, float* mask);
// Whether an nm config acts on whole kernels of this layer (kernel pattern
// on a kernel larger than 1x1; on 1x1 the two patterns are the same), and
// so needs per-kernel scores. A Conv with fewer input channels than m (a
// 1-channel stem) has no group of kernels to thin: it is pruned per tap,
// so that "n:m everywhere" still halves it.
inline bool nmByKernel(const PrunableLayer& L, const LayerPruneConfig& c) {
  return c.granularity == Granularity::NM && c.nmKernel && L.kernelSize > 1 && L.inUnits >= c.m;
}
// The granularity an nm config scores its units at.
inline Granularity nmScoreGranularity(const PrunableLayer& L, const LayerPruneConfig& c) {
  return nmByKernel(L, c) ? Granularity::Kernel : c.granularity;
}
// nmSelect or nmSelectKernels, as the config asks.
void nmApply(const PrunableLayer& L, const LayerPruneConfig& c, const std::vector<float>& scores, float* mask);
// The dependency group a layer's granularity acts on, or -1.
int groupIndexFor(const std::vector<DependencyGroup>& groups, const Graph& graph, const PrunableLayer& L, Granularity g);
// One score per channel of a group.
Result<std::vector<float>> groupScores(const Graph& graph, const DependencyGroup& G, Criterion c,
                                       const TaylorSaliency& saliency, uint64_t seed);
// Units whose weights the previous mask zeroed score -inf (they stay pruned).
void markPrevious(const PrunableLayer& L, Granularity g, const MaskSet& previous, std::vector<float>& scores);
void markPreviousGroup(const Graph& graph, const DependencyGroup& G, const MaskSet& previous, std::vector<float>& scores);
// Writes the pruned units of one LayerUnits into the masks.
Status applySelection(const Graph& graph, const LayerUnits& u, const std::vector<int64_t>& pruned, MaskBuilder& masks);
// Global ranking over all units with the same granularity and criterion.
Status globalSelect(const Graph& graph, std::vector<LayerUnits>& units, double sparsity, MaskBuilder& masks);

}  // namespace topiary::prune_detail
