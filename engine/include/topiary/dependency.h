// Dependency-aware structured pruning on ONNX graphs.
//
// A *dependency group* is a set of channels that must be pruned together: a
// channel of one activation tensor is tied to the filters that produce it
// (Conv/Gemm/MatMul outputs), to every parameter that is indexed by it on the
// way (BatchNormalization, depthwise Conv, per-channel Mul/Add constants,
// PRelu slopes), to the tensors it is added to or multiplied with (residual
// Add, squeeze-excite Mul), and to every consumer that reads it (Conv input
// channels, Gemm/MatMul rows, after Flatten a block of C*H*W columns, after
// Concat at an offset). Pruning channel c of a group removes every slice of
// every member at once, so the graph stays valid ONNX and computes the same
// function as the masked graph (see maskGroupChannels).
//
// Owner: the "dependency" engineer (engine/src/prune/dependency*.cpp,
// surgery*.cpp, layer_removal*.cpp). Errors: BadInput for a wrong argument
// (unknown node, channel index out of range, locked group), Unsupported for a
// graph the analysis cannot handle; messages name the node/tensor.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

// How an operator couples the channels (axis 1; the feature axis for rank-2
// tensors) of its data input to those of its output. One row per operator in
// channelRoleOf (dependency_table.cpp).
enum class ChannelRole {
  Producer,     // output channels are new (Conv, Gemm, MatMul; ConvTranspose is not supported):
                // the node consumes its input's channels and produces its own
  Passthrough,  // output channel i depends only on input channel i (Relu, BN, pools, depthwise Conv)
  Elementwise,  // binary op: inputs and output share channels (Add, Sub, Mul, Div)
  Concat,       // output channels are the inputs' channels one after another
  Reshape,      // Flatten / Reshape: traced only when it flattens the trailing dims (or is a no-op)
  Transpose,    // traced when it moves the channel axis to the end or back (NCHW <-> NHWC, as
                // tf2onnx writes before a Keras Flatten); other permutations lock
  ShapeOnly,    // reads only the shape (Shape, Size): no coupling
  Opaque,       // anything else: channels cannot be traced; the group is locked
};
ChannelRole channelRoleOf(const std::string& opType);
const char* channelRoleName(ChannelRole role);

// Which part of an initializer one channel of a group touches. Channel c of
// the group covers indices [offset + c*inner, offset + (c+1)*inner) along
// `axis` of `tensor` (inner > 1 after Flatten: channel c of a [N,C,H,W]
// tensor is H*W columns of the next Gemm; offset > 0 after Concat).
struct ChannelSlice {
  enum class Kind {
    ProducerOut,  // output filters of a Conv/Gemm/MatMul and its bias
    Param,        // per-channel parameter: BN scale/bias/mean/var, depthwise filter+bias, Mul/Add constant
    ConsumerIn,   // input channels / rows of the consuming Conv/Gemm/MatMul
  };
  std::string tensor;  // initializer name
  std::string node;    // node reading it
  Kind kind = Kind::Param;
  int axis = 0;
  int64_t offset = 0;
  int64_t inner = 1;
  // Channel c owns indices [offset + c*inner, offset + (c+1)*inner) along
  // `axis`, and the same run `period` further on, `repeat` times in all.
  // repeat > 1 is a channels-last Flatten (NHWC into a MatMul/Gemm): channel
  // c is rows c, c + C, c + 2C, ... (inner 1, period C, repeat H*W).
  int64_t repeat = 1;
  int64_t period = 0;
};
const char* sliceKindName(ChannelSlice::Kind kind);

struct DependencyGroup {
  int id = 0;
  std::string rootTensor;  // an activation tensor whose channels the group is (a producer's output when any)
  int64_t channels = 0;
  std::vector<std::string> tensors;    // activation tensors carrying the group's channels (at offset 0, inner 1)
  // Nodes are named by Node::label(): the name, or "<Op -> output>" when unnamed.
  std::vector<std::string> producers;  // nodes creating the channels (Conv/Gemm/MatMul)
  std::vector<std::string> consumers;  // nodes reading them as input channels/rows
  std::vector<std::string> members;    // every node touched: producers, consumers, BN, activations, Add, Concat...
  std::vector<ChannelSlice> slices;    // every initializer slice removed with a channel
  std::vector<std::string> attrUpdates;  // nodes whose attributes/shape constants change (depthwise group, Reshape)
  bool locked = false;
  std::string lockReason;  // why the group cannot be pruned (names the node and operator)
};

// Finds every dependency group. The graph needs inferred shapes
// (topiary::inferShapes); this function runs it on a copy when valueInfo is
// missing. Groups are ordered by the position of their first producer.
Result<std::vector<DependencyGroup>> buildDependencyGroups(const Graph& graph);

// Lookup helpers: the group whose producers include `nodeName` (filter /
// neuron granularity), the group carrying `nodeName`'s data input channels
// (channel granularity), and the group carrying `tensor`. -1 when none.
int groupProducedBy(const std::vector<DependencyGroup>& groups, const std::string& nodeName);
int groupConsumedBy(const std::vector<DependencyGroup>& groups, const Graph& graph, const std::string& nodeName);
int groupOfTensor(const std::vector<DependencyGroup>& groups, const std::string& tensor);

// Flat element indices of `shape` (row-major) covered by channel `channel` of
// a slice, in increasing order. Empty when the slice does not fit the shape.
std::vector<int64_t> sliceElementIndices(const Shape& shape, const ChannelSlice& slice, int64_t channel);
// Indices along the slice's axis owned by channel `channel`, in increasing order.
std::vector<int64_t> sliceAxisIndices(const ChannelSlice& slice, int64_t channel);

// ---- importance -------------------------------------------------------------
enum class Aggregation { Sum, Mean, Max };

struct ImportanceOptions {
  std::string criterion = "l1";  // l1 | l2 | bn_scale | taylor | random
  Aggregation aggregation = Aggregation::Sum;  // over the group's slices
  bool producersOnly = false;  // score only ProducerOut slices (classic filter norm, Li et al. 2017)
  uint64_t seed = 1;           // for "random"
  // For "taylor": the gradient of the loss w.r.t. an initializer (same shape),
  // or null when unknown. The score of a slice is sum |w * dL/dw| (Molchanov 2019).
  std::function<const Tensor*(const std::string& initializer)> gradientOf;
};

// One score per channel of the group (higher = more important). l1: sum |w|
// of each slice, l2: sqrt(sum w^2), bn_scale: |gamma| of the group's BN
// members (BadInput when it has none); then aggregated over slices.
Result<std::vector<double>> groupImportance(const Graph& graph, const DependencyGroup& group,
                                            const ImportanceOptions& options = {});

// Whether some slice of the group is a BatchNormalization scale, which the
// bn_scale criterion ranks (a squeeze-excite or plain Conv+ReLU group has none).
bool groupHasBatchNorm(const Graph& graph, const DependencyGroup& group);

// Indices of the `count` lowest scores, ascending by index (ties: lower index first).
std::vector<int64_t> lowestChannels(const std::vector<double>& scores, int64_t count);

// ---- masks and surgery -------------------------------------------------------
// Zeros every slice of the given channels in place, shapes unchanged. Because
// consumer input slices are zeroed too, the channel's (possibly nonzero, e.g.
// BN beta) activation is never read, so the masked graph computes exactly what
// pruneGroupChannels' smaller graph computes. A BN variance and a Div divisor
// are left as they are (zero there would give inf * 0 = NaN downstream), so
// "every slice is zero" is not the test for a masked channel. Fails on locked
// groups.
Status maskGroupChannels(Graph& graph, const DependencyGroup& group, const std::vector<int64_t>& channels);

// Physically removes the channels from every slice of the group, updates the
// attributes that depend on the count (depthwise Conv group, Reshape shape
// constants) and re-infers shapes. Fails (graph untouched) on a locked group,
// an index out of range, a duplicate, or removing every channel.
// Groups built before the call are stale afterwards: rebuild them.
Status pruneGroupChannels(Graph& graph, const DependencyGroup& group, const std::vector<int64_t>& channelsToRemove);

// Removes a fraction of every unlocked group's channels (at least one channel
// kept), lowest importance first. Groups are rebuilt after each step. Returns
// the number of channels removed. `filter` (optional) decides which groups to touch.
Result<int64_t> pruneAllGroups(Graph& graph, double fraction, const ImportanceOptions& options = {},
                               const std::function<bool(const DependencyGroup&)>& filter = nullptr);

// ---- layer granularity -------------------------------------------------------
// Can `nodeName` be removed? A node with one data input whose output has the
// same shape is replaced by identity. An Add node joining a residual branch
// and a skip path is removed with the branch (the nodes used only by the
// branch), leaving the skip path. Returns ok or a reason naming the shapes.
Status checkLayerRemoval(const Graph& graph, const std::string& nodeName);
// Performs the removal (graph untouched on error), drops now-unused
// initializers and re-infers shapes.
Status removeLayer(Graph& graph, const std::string& nodeName);
// Node names checkLayerRemoval accepts (for the GUI and recipes).
std::vector<std::string> removableLayers(const Graph& graph);

}  // namespace topiary
