// Pruning masks: which weights a layer keeps, at which granularity, ranked by
// which criterion. Everything here is a pure function of a Graph (and, for
// the Taylor criterion, a few batches of data); nothing modifies the graph
// except applyMasks (train.h). computeMasks for a whole LeNet-5 takes a few
// milliseconds (nth_element on scores, no sorting), so a GUI can call it on
// every slider move.
//
// Granularities and what a mask zeroes:
//   element  single weights (unstructured)
//   nm       N of every M consecutive weights along the input (reduction)
//            dimension are kept (2:4 by default)
//   kernel   whole kh x kw kernels of one (filter, input channel) pair (Conv only)
//   filter   whole output channels of a Conv and every slice coupled to them
//            (bias, BatchNorm, the next layer's input channels): a dependency group
//   channel  whole input channels of a Conv, i.e. the producer's filters (a group)
//   neuron   whole output units of a Gemm/MatMul (a group)
//   layer    a whole layer (replaced by the identity or removed; dependency.h)
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "topiary/dataset.h"
#include "topiary/dependency.h"
#include "topiary/graph.h"
#include "topiary/status.h"
#include "topiary/tensor.h"
#include "topiary/train.h"

namespace topiary {

enum class Granularity { Element, NM, Kernel, Filter, Channel, Neuron, Layer };
enum class Criterion { L1, L2, Taylor, BnScale, Random };

const char* granularityName(Granularity g);  // "element", "nm", ...
const char* criterionName(Criterion c);      // "l1", "l2", "taylor", "bn_scale", "random"
bool parseGranularity(const std::string& s, Granularity& out);
bool parseCriterion(const std::string& s, Criterion& out);
// True for the granularities that remove structure through dependency groups.
bool isGroupGranularity(Granularity g);

// How one layer is pruned.
struct LayerPruneConfig {
  Granularity granularity = Granularity::Element;
  double sparsity = 0.0;  // fraction of the layer's prunable units to remove, [0, 1)
  Criterion criterion = Criterion::L1;
  int n = 2;              // nm: keep n of every m
  int m = 4;
  // nm: the unit of a group. false ("nm_pattern": "tap"): m consecutive input
  // channels at one tap, n weights kept per tap. true ("kernel"): m
  // consecutive input channels of a filter, n whole kh x kw kernels kept
  // (ranked by the kernel's score), so the pattern survives a Winograd
  // transform (kernels/winograd43_nm.h). Identical on 1x1 Convs and Gemm.
  bool nmKernel = false;
  bool locked = false;    // never pruned (the GUI's lock)
};

// A weight pruning can act on: the weight initializer of a Conv, Gemm or
// MatMul node, seen as [outUnits, inUnits, kernelSize] through strides so
// that both Gemm layouts (transB 0/1) share one code path.
struct PrunableLayer {
  std::string node;     // node label (its name)
  std::string op;       // Conv | Gemm | MatMul
  std::string weight;   // initializer name
  std::string bias;     // bias initializer, "" when none
  Shape shape;          // of the weight
  int64_t outUnits = 0;    // filters / output neurons
  int64_t inUnits = 0;     // input channels (per group) / input features
  int64_t kernelSize = 1;  // kh*kw (1 for Gemm/MatMul)
  int64_t outStride = 0, inStride = 0;  // element (o, c, k) is at o*outStride + c*inStride + k
  int64_t group = 1;       // Conv groups

  int64_t numel() const { return outUnits * inUnits * kernelSize; }
  int64_t index(int64_t o, int64_t c, int64_t k) const { return o * outStride + c * inStride + k; }
};

// The prunable layers in graph order. Weights shared by two nodes are listed once.
std::vector<PrunableLayer> findPrunableLayers(const Graph& graph);
// The layer whose node name or weight-initializer name is `name`, or null.
const PrunableLayer* findPrunableLayer(const std::vector<PrunableLayer>& layers, const std::string& name);

// A resolved configuration: one entry per node name of a prunable layer that
// is pruned (absent or sparsity 0 means dense).
struct PruneConfig {
  std::map<std::string, LayerPruneConfig> layers;
  // Global ranking: the units of all unlocked layers with sparsity > 0 that
  // share a granularity and criterion are ranked together and
  // `globalSparsity` of them is pruned (per-layer sparsities then only say
  // which layers take part). Element/kernel scores are raw magnitudes (global
  // magnitude pruning); group scores are divided by their layer's L2 norm
  // (Molchanov et al. 2017) so layers of different widths compare. N:M
  // always works per group.
  bool globalRanking = false;
  double globalSparsity = 0.0;
};

// Checks a configuration against a graph: every name is a prunable layer,
// sparsity in [0,1), 0 < n < m <= 32, the granularity fits the operator
// (kernel needs a Conv with kh*kw > 1, neuron a Gemm/MatMul, filter/channel a
// Conv). Errors are BadInput naming the layer, key and value.
Status validatePruneConfig(const Graph& graph, const PruneConfig& config);

struct MaskOptions {
  const Dataset* data = nullptr;  // needed by the taylor criterion
  int taylorBatches = 4;
  int batchSize = 32;
  uint64_t seed = 1;              // random criterion
  int threads = 0;
  // Weights whose mask is already 0 here stay pruned (used by gradual
  // schedules so that a random or Taylor ranking cannot resurrect them).
  const MaskSet* previous = nullptr;
  // Dependency groups of the graph, when the caller has them already (the GUI
  // builds them once per model); computed on demand otherwise.
  const std::vector<DependencyGroup>* groups = nullptr;
  const std::atomic<bool>* cancel = nullptr;
};

// Computes masks for the configuration. Group granularities (filter, channel,
// neuron, layer) mask every slice coupled through the dependency group, so
// the masked model computes exactly what the physically pruned one does.
// The returned set holds an entry for every initializer that has a zero.
Result<MaskSet> computeMasks(const Graph& graph, const PruneConfig& config, const MaskOptions& options = {});

// Per-unit importance scores of one layer for a granularity and criterion
// (one score per element, N:M element, kernel or output unit), higher =
// more important. Exposed for heatmaps and tests. Granularity filter/neuron
// scores the layer's own output units, channel its input units (the group
// scores computeMasks uses also cover the coupled slices). `saliency` is the
// per-weight Taylor saliency mean_b |w * dL/dw| (taylorSaliency), needed for
// taylor only; bn_scale is a group criterion (BadInput here).
Result<std::vector<float>> unitScores(const PrunableLayer& layer, const Tensor& weight, Granularity g, Criterion c,
                                      const Tensor* saliency = nullptr, uint64_t seed = 1);

// First-order Taylor saliency of every float initializer: mean over
// `batches` batches of |w * dL/dw| (Molchanov et al.), plus, for the given
// activation tensors, the per-channel activation criterion
// mean_n |mean_hw(a * dL/da)| (Molchanov et al. 2017) as a [C] tensor.
struct TaylorSaliency {
  std::map<std::string, Tensor> weights;      // initializer -> |w*g|, same shape
  std::map<std::string, Tensor> activations;  // activation tensor -> [C]
};
Result<TaylorSaliency> taylorSaliency(const Graph& graph, const Dataset& data, int batches, int batchSize,
                                      const std::vector<std::string>& activationNames = {}, int threads = 0);

// Fraction of zeros in a mask (or any tensor).
double zeroFraction(const Tensor& t);
// Number of units the layer prunes for a sparsity: floor(units * sparsity + 0.5).
int64_t unitsToPrune(int64_t units, double sparsity);

// Masks the configuration's layers by magnitude (l2 norm per unit) of an
// arbitrary weight tensor: the Euclidean projection onto the sparsity
// constraint that ADMM's Z-step needs. Returns mask for `values`.
Result<Tensor> projectionMask(const PrunableLayer& layer, const LayerPruneConfig& cfg, const Tensor& values);

}  // namespace topiary
