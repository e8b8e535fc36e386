// Executor: runs a Graph on a batch. Kernels are built once (attribute errors
// and unsupported operators surface in create()); every tensor gets a slot
// whose buffer is kept between runs, so repeated runs on the same input
// shape allocate nothing. Initializers are read in place from the Graph,
// which must outlive the executor; changing weight values (pruning masks,
// training) needs no rebuild, changing the graph's structure does.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "topiary/graph.h"
#include "topiary/kernel.h"
#include "topiary/kernel_tune_cache.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

struct ExecutorOptions {
  int threads = 0;  // 0: every core
  // Inference-only rewrites at create() (see engine/src/optimize/): BatchNorm
  // folded into the Conv before it, activations fused into Conv/Gemm, and
  // pruned weights run by sparse kernels where they beat the dense one.
  // Weights are copied when the executor is built, so later changes to the
  // graph's weights are not seen (rebuild the executor), tensors fused away
  // have no value(), and training must leave this off.
  // With it, a large batch on a graph whose every operator treats samples
  // independently is split over the threads, each running the whole graph
  // on its slice on one thread: one fork/join per run instead of one per
  // operator, which also keeps a busy machine from stalling every layer.
  bool optimizeForInference = false;
  // With optimizeForInference: whether such a batch may be split (above) or
  // run in chunks of a few images on one thread (convolutional graphs). Off,
  // the batch runs whole, layer after layer, so that value() and
  // nodeInputs() hold every intermediate tensor of the whole batch (per-layer
  // timing at a given batch, as bench_nm_layers does); slower on big batches.
  bool splitBatch = true;
  // Dynamic (run-time) pruning, with optimizeForInference only: when >= 0,
  // each Conv reading an activation skips, per image, the input channels
  // whose max |x| is <= this value (0: exact zeros, same result up to
  // rounding; > 0: an approximation, as if those channels were zero).
  // dynamicSkippedFlops() reports what was saved. Negative: off.
  float dynamicSkipThreshold = -1.f;
  // Largest tensor any operator may produce while running; a model whose
  // shapes would need more is refused with the size (not run out of memory).
  uint64_t maxTensorBytes = uint64_t(4) << 30;
  // Largest sum of the tensors one run holds at once. A run keeps every
  // intermediate tensor (value() reads them afterwards), so a chain of many
  // tensors each under maxTensorBytes can still need more memory than the
  // machine has; such a model is refused at the node where the total passes
  // this, with both sizes. 0: the machine's physical memory. A split batch
  // gives each thread's shard an equal share.
  uint64_t maxRunBytes = 0;
  // Where Conv/Gemm kernel choices (timed on the first batch with
  // optimizeForInference) are remembered. Executors that share one skip the
  // timing for layers whose shapes and zero pattern they have already seen
  // (the workbench's preview: one executor per edit). Null: the executor
  // makes its own, shared by its shards.
  std::shared_ptr<KernelTuneCache> tuneCache = nullptr;
};

int defaultThreadCount();

struct ZeroFeed;

class Executor {
 public:
  static Result<std::unique_ptr<Executor>> create(const Graph& graph, const ExecutorOptions& options = {});
  ~Executor();

  // Runs the graph. `inputs` are matched to graph inputs by name; every
  // graph input must be given, with the declared type and fixed dimensions.
  Status run(const std::vector<std::pair<std::string, const Tensor*>>& inputs);
  // Same, for a graph with a single input.
  Status run(const Tensor& input);
  // Runs once on zeros shaped like the graph's inputs (symbolic dims =
  // batch), kept by the executor so value() and the shapes behind
  // nodeFlops() stay valid afterwards: shape inference, FLOP counts and
  // tracing all start this way. The zeros count against maxTensorBytes too.
  Status runOnZeros(int64_t batch = 1);

  // The graph the executor was built from (not the optimised copy).
  const Graph& graph() const { return *graph_; }
  size_t outputCount() const { return outputSlots_.size(); }
  const Tensor& output(size_t i) const { return *slots_[static_cast<size_t>(outputSlots_[i])].ptr; }
  // Any tensor by name after a run (null when unknown, and for a tensor the
  // inference optimiser stores channels-last inside a region).
  const Tensor* value(const std::string& name) const;

  int threads() const { return ctx_.threads; }
  void setThreads(int threads);
  void setTraining(bool training) { ctx_.training = training; }
  bool training() const { return ctx_.training; }
  void setCancelFlag(const std::atomic<bool>* flag) { ctx_.cancel = flag; }
  const RunContext& context() const { return ctx_; }

  // FLOPs of each node (graph order) for the shapes of the last run.
  std::vector<double> nodeFlops() const;

  // Per-node wall time, summed over the runs since profiling was switched
  // on; index as nodeCount() (the optimised graph's nodes when optimising;
  // for a batch split over threads, the slowest thread's time per node).
  void setProfiling(bool on);
  std::vector<double> nodeMilliseconds() const;
  // Label and operator of node i of the graph that runs (for reports).
  const Node& runNode(size_t node) const { return run_->nodes[node]; }
  // What the inference optimiser did (one line per rewrite or kernel
  // choice); empty unless optimizeForInference.
  const std::vector<std::string>& optimizationLog() const { return optLog_; }
  // Per image of the last run, the FLOPs (multiply-add = 2) that run-time
  // channel skipping did not execute (ExecutorOptions::dynamicSkipThreshold);
  // empty when skipping is off. silent = true: the FLOPs over every silent
  // channel instead, skipped or not (a Conv runs its ordinary kernel on an
  // image when that is faster than compacting it); analyzeDynamicSkipping's count.
  std::vector<double> dynamicSkippedFlops(bool silent = false) const;
  // Per node, the kernel variant a Conv/Gemm picked on its first run
  // ("dense", "csr", "2:4", ...; "" for other operators).
  std::vector<std::string> kernelChoices() const;

  // --- access for autograd / analysis, in graph node order (without optimizeForInference) ---
  size_t nodeCount() const { return steps_.size(); }
  Kernel& kernel(size_t node) { return *steps_[node].kernel; }
  std::vector<const Tensor*> nodeInputs(size_t node) const;
  std::vector<Tensor*> nodeOutputs(size_t node);
  // Slot index of a tensor name, or -1. Slots cover inputs, initializers and node outputs.
  int slotOf(const std::string& name) const;
  const std::vector<int>& nodeInputSlots(size_t node) const { return steps_[node].in; }
  const std::vector<int>& nodeOutputSlots(size_t node) const { return steps_[node].out; }
  size_t slotCount() const { return slots_.size(); }
  const Tensor* slotTensor(int slot) const { return slots_[static_cast<size_t>(slot)].ptr; }
  bool slotIsInitializer(int slot) const { return slots_[static_cast<size_t>(slot)].initializer; }
  const std::string& slotName(int slot) const { return slots_[static_cast<size_t>(slot)].name; }

 private:
  struct Slot {
    std::string name;
    Tensor owned;  // node outputs and copied inputs live here
    const Tensor* ptr = nullptr;
    bool initializer = false;
  };
  struct Step {
    std::unique_ptr<Kernel> kernel;
    std::vector<int> in;   // -1 for omitted optional inputs
    std::vector<int> out;  // -1 for omitted optional outputs
  };
  Executor() = default;
  Status checkInput(const ValueInfo& info, const Tensor& t) const;
  Status runSharded(const Tensor& input);
  void runChunks(int worker, uint64_t generation);

  const Graph* graph_ = nullptr;
  const Graph* run_ = nullptr;  // graph_ or optimized_
  std::unique_ptr<Graph> optimized_;
  std::vector<std::string> optLog_;
  bool profiling_ = false;
  std::vector<double> nodeMs_;
  // Batch split (see ExecutorOptions): one single-threaded executor per
  // thread on the optimised graph. The batch is cut into chunks that the
  // calling thread and helper threads claim one at a time, so a helper the
  // OS has not scheduled never holds the run up (no fork/join barrier).
  // After a split run, value() knows the kept tensors only: graph outputs and
  // the activations read by the nodes producing them (e.g. a final Softmax's
  // logits).
  struct SplitPool;
  std::vector<std::unique_ptr<Executor>> shards_;
  std::unique_ptr<SplitPool> pool_;
  std::vector<int> keptSlots_;
  std::vector<Tensor> chunkInputs_;
  std::vector<std::vector<Tensor>> chunkKept_;                   // [chunk][kept tensor]
  std::vector<std::vector<double>> chunkSkipped_, chunkSilent_;  // [chunk][image]: dynamicSkippedFlops() of a split run
  bool lastRunSharded_ = false;
  int64_t chunkImages_ = 0;          // images per chunk of a split run of a convolutional graph (0: not one)
  std::unique_ptr<ZeroFeed> zeros_;  // inputs of runOnZeros()
  uint64_t maxTensorBytes_ = uint64_t(4) << 30;
  uint64_t maxRunBytes_ = ~uint64_t(0);
  std::shared_ptr<KernelTuneCache> tuneCache_;
  std::vector<Slot> slots_;
  std::vector<Step> steps_;
  std::vector<int> inputSlots_;
  std::vector<int> outputSlots_;
  std::vector<Tensor> scratchOutputs_;  // for omitted optional outputs
  // Kept between runs so that a warm run does not allocate: the single
  // input of run(const Tensor&), each step's input and output pointers,
  // and the chunk shape every shard has already run (a shard that first
  // gets a chunk in a later run would size its tensors and time its
  // kernels then).
  std::vector<std::pair<std::string, const Tensor*>> feed_;
  std::vector<const Tensor*> stepIn_;
  std::vector<Tensor*> stepOut_;
  Shape shardsWarmFor_, chunkShape_;
  RunContext ctx_;
};

// Runs the graph once on zeros with the given batch size and records every
// tensor's shape in graph.valueInfo (the batch dimension stays symbolic where
// the input's is). Used for display and FLOP counts. Runs with default
// ExecutorOptions (every core, the default maxTensorBytes).
Status inferShapes(Graph& graph, int64_t batch = 1);
// Same, with the caller's limits: options.maxTensorBytes caps every tensor,
// the zero inputs included (a model whose shapes would need more is refused
// with the size, BadInput, before allocating it), and options.threads sets
// the threads. Every intermediate tensor must keep its value, so the
// inference rewrites are never applied: optimizeForInference and the options
// that go with it (splitBatch, dynamicSkipThreshold) are ignored.
Status inferShapes(Graph& graph, int64_t batch, const ExecutorOptions& options);

// A zero tensor matching a graph input's declaration, symbolic dims set to
// `batch`. BadInput (before allocating) when it would take over maxBytes.
Result<Tensor> makeInputLike(const ValueInfo& info, int64_t batch, uint64_t maxBytes = uint64_t(4) << 30);

// Zero tensors for every input of a graph (makeInputLike), with the
// name/pointer pairs Executor::run takes. Movable, not copyable: `feed`
// points into `tensors`.
struct ZeroFeed {
  std::vector<Tensor> tensors;
  std::vector<std::pair<std::string, const Tensor*>> feed;

  // BadInput when any input would take over maxBytes (makeInputLike).
  static Result<ZeroFeed> make(const Graph& graph, int64_t batch, uint64_t maxBytes = uint64_t(4) << 30);
  ZeroFeed() = default;
  ZeroFeed(ZeroFeed&&) = default;
  ZeroFeed& operator=(ZeroFeed&&) = default;
  ZeroFeed(const ZeroFeed&) = delete;
  ZeroFeed& operator=(const ZeroFeed&) = delete;
};

}  // namespace topiary
