#include "topiary/executor.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "kernels/kernel_choice.h"
#include "kernels/spin_wait.h"
#include "kernels/threading.h"
#include "ops/nn/conv_dynamic.h"
#include "optimize/inference_optimizer.h"

namespace topiary {

namespace {

// The axes a node lists (attribute, or an initializer input from the opsets
// that moved them there); false when they are absent or computed at run time.
bool listedAxes(const Graph& g, const Node& n, size_t input, std::vector<int64_t>& axes) {
  if (n.hasAttr("axes")) {
    axes = n.attrInts("axes");
    return true;
  }
  auto it = g.initializers.find(n.input(input));
  if (it == g.initializers.end()) return false;
  axes = it->second.toInt64s();
  return true;
}

// Operators that treat every sample of the batch on its own (given a
// batch-first layout), so a graph made of them can run on slices of the batch.
bool samplewise(const Graph& g, const Node& n) {
  static const char* const ops[] = {"Conv",
                                    "ConvTranspose",
                                    "MaxPool",
                                    "AveragePool",
                                    "GlobalAveragePool",
                                    "GlobalMaxPool",
                                    "BatchNormalization",
                                    "InstanceNormalization",
                                    "LRN",
                                    "Relu",
                                    "LeakyRelu",
                                    "PRelu",
                                    "Clip",
                                    "HardSigmoid",
                                    "HardSwish",
                                    "Sigmoid",
                                    "Tanh",
                                    "Elu",
                                    "Selu",
                                    "Celu",
                                    "ThresholdedRelu",
                                    "Shrink",
                                    "Softplus",
                                    "Softsign",
                                    "Add",
                                    "Sub",
                                    "Mul",
                                    "Div",
                                    "Pow",
                                    "Mod",
                                    "Max",
                                    "Min",
                                    "Sum",
                                    "Mean",
                                    "Dropout",
                                    "Identity",
                                    "Cast",
                                    "Erf",
                                    "Exp",
                                    "Log",
                                    "Sqrt",
                                    "Abs",
                                    "Neg",
                                    "Reciprocal",
                                    "Floor",
                                    "Ceil",
                                    "Round",
                                    "Sign",
                                    "Sin",
                                    "Cos",
                                    "Tan"};
  if (!n.domain.empty() && n.domain != "ai.onnx") return false;
  for (const char* op : ops)
    if (n.opType == op) return true;
  const std::string& op = n.opType;
  if (op == "Gemm") return n.attrInt("transA", 0) == 0;
  if (op == "Flatten") return n.attrInt("axis", 1) == 1;
  if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax")
    return n.attrInt("axis", 1) == 1 || n.attrInt("axis", 1) == -1;
  if (op == "Concat") return n.attrInt("axis", 0) != 0;
  // Exporters other than PyTorch's (tf2onnx, Paddle): a product with a
  // constant matrix, NHWC <-> NCHW, flattening reshapes, reductions and
  // squeezes that leave the batch axis alone.
  if (op == "MatMul") {
    auto w = g.initializers.find(n.input(1));
    return w != g.initializers.end() && w->second.rank() == 2;
  }
  if (op == "Transpose") {
    std::vector<int64_t> perm = n.attrInts("perm");
    return !perm.empty() && perm[0] == 0;
  }
  // An axis given from the end may still name the batch axis (-rank).
  auto offBatch = [&](int64_t axis) {
    const ValueInfo* in = g.info(n.input(0));
    if (axis >= 0) return axis != 0;
    return in && in->hasShape && axis + static_cast<int64_t>(in->dims.size()) != 0;
  };
  if (op == "LayerNormalization") return offBatch(n.attrInt("axis", -1));
  if (op == "Reshape") {
    // [0 or -1, d1, d2, ...] with the di fixed and multiplying to one sample's
    // elements: each sample stays one row block.
    auto target = g.initializers.find(n.input(1));
    const ValueInfo* in = g.info(n.input(0));
    if (target == g.initializers.end() || !in || !in->hasShape || n.attrInt("allowzero", 0) != 0) return false;
    std::vector<int64_t> dims = target->second.toInt64s();
    if (dims.empty() || (dims[0] != 0 && dims[0] != -1)) return false;
    int64_t want = 1, have = 1;
    for (size_t i = 1; i < in->dims.size(); ++i) {
      if (in->dims[i].value <= 0) return false;
      want *= in->dims[i].value;
    }
    for (size_t i = 1; i < dims.size(); ++i) {
      if (dims[i] <= 0) return false;
      have *= dims[i];
    }
    return want == have;
  }
  const bool reduce = op.rfind("Reduce", 0) == 0 || op == "ArgMax" || op == "ArgMin";
  if (reduce && (op == "ArgMax" || op == "ArgMin")) return offBatch(n.attrInt("axis", 0));
  if (reduce || op == "Squeeze" || op == "Unsqueeze") {
    std::vector<int64_t> axes;
    if (!listedAxes(g, n, 1, axes) || axes.empty()) return false;  // none listed: every axis (Squeeze: unknown)
    const ValueInfo* in = g.info(n.input(0));
    const int64_t rank = !in || !in->hasShape ? -1
                         : op == "Unsqueeze"  ? static_cast<int64_t>(in->dims.size() + axes.size())
                                              : static_cast<int64_t>(in->dims.size());
    for (int64_t a : axes)
      if (a == 0 || (a < 0 && (rank < 0 || a + rank == 0))) return false;
    return true;
  }
  return false;
}

// A graph whose single input has a symbolic batch and whose operators are
// all samplewise; binary operators' other inputs must be initializers or
// activations (which carry the same batch).
bool shardable(const Graph& g) {
  if (g.inputs.size() != 1 || !g.inputs[0].hasShape || g.inputs[0].dims.empty() || g.inputs[0].dims[0].value >= 0)
    return false;
  for (const auto& n : g.nodes)
    if (!samplewise(g, n)) return false;
  return !g.outputs.empty();
}

}  // namespace

// Helper threads of a split run. `next` holds the run's generation in its
// high 32 bits and the next unclaimed chunk in the low ones, so a helper that
// wakes late can only claim chunks of the run in progress, and claims none
// once they are all taken. After a run a helper looks for the next one for
// a short while (kernels/spin_wait.h) before it sleeps: woken from the
// condition variable it started tens of microseconds after the caller, and
// a time slice late on a loaded machine, while the caller ran its chunks.
struct Executor::SplitPool {
  std::vector<std::thread> workers;
  std::mutex m;
  std::condition_variable wake, idle;
  uint64_t generation = 0;
  int busy = 0;  // helpers inside runChunks
  bool stop = false;
  std::atomic<uint64_t> next{0};
  std::atomic<int64_t> chunks{0};
  std::vector<Status> status;  // per chunk

  // How long a helper looks for the next run before it sleeps.
  static constexpr std::chrono::microseconds kSpin{200};

  void serve(Executor* ex, int worker) {
    uint64_t seen = 0;
    for (;;) {
      // A new run shows in next's generation bits before the lock is free.
      kernels::spinUntil([&] { return (next.load(std::memory_order_acquire) >> 32) != (seen & 0xffffffffu); }, kSpin);
      std::unique_lock<std::mutex> lock(m);
      wake.wait(lock, [&] { return stop || generation != seen; });
      if (stop) return;
      seen = generation;
      ++busy;
      lock.unlock();
      ex->runChunks(worker, seen & 0xffffffffu);
      lock.lock();
      --busy;
      idle.notify_all();
    }
  }
};

Executor::~Executor() {
  if (!pool_) return;
  {
    std::lock_guard<std::mutex> lock(pool_->m);
    pool_->stop = true;
  }
  pool_->wake.notify_all();
  for (auto& t : pool_->workers) t.join();
}

namespace {
// The memory the machine has: the default of ExecutorOptions::maxRunBytes.
uint64_t physicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : ~uint64_t(0);
}
}  // namespace

int defaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

Result<std::unique_ptr<Executor>> Executor::create(const Graph& graph, const ExecutorOptions& options) {
  std::unique_ptr<Executor> ex(new Executor());
  ex->graph_ = &graph;
  ex->run_ = &graph;
  ex->maxTensorBytes_ = options.maxTensorBytes;
  ex->maxRunBytes_ = options.maxRunBytes ? options.maxRunBytes : physicalMemoryBytes();
  ex->tuneCache_ = options.tuneCache ? options.tuneCache : std::make_shared<KernelTuneCache>();
  ex->ctx_.tuneCache = ex->tuneCache_.get();
  if (options.optimizeForInference) {
    auto opt = optimize::optimizeForInference(graph, ex->optLog_, options.dynamicSkipThreshold);
    if (!opt) return opt.status();
    ex->optimized_.reset(new Graph(std::move(opt.value())));
    ex->run_ = ex->optimized_.get();
  }
  const Graph& run = *ex->run_;
  ex->setThreads(options.threads);
  std::unordered_map<std::string, int> slotIndex;
  auto addSlot = [&](const std::string& name) {
    int idx = static_cast<int>(ex->slots_.size());
    ex->slots_.push_back(Slot{});
    ex->slots_.back().name = name;
    slotIndex[name] = idx;
    return idx;
  };
  for (const auto& in : run.inputs) ex->inputSlots_.push_back(addSlot(in.name));
  for (const auto& kv : run.initializers) {
    int s = addSlot(kv.first);
    ex->slots_[static_cast<size_t>(s)].ptr = &kv.second;
    ex->slots_[static_cast<size_t>(s)].initializer = true;
  }
  const OpRegistry& reg = OpRegistry::instance();
  int64_t opset = run.opset();
  for (const auto& node : run.nodes) {
    auto k = reg.build(node, opset);
    if (!k) return k.status();
    Step step;
    step.kernel = std::move(k.value());
    for (const auto& in : node.inputs) {
      if (in.empty()) {
        step.in.push_back(-1);
        continue;
      }
      auto it = slotIndex.find(in);
      if (it == slotIndex.end())
        return Status::badInput("node '" + node.label() + "' reads '" + in + "' before it is produced");
      step.in.push_back(it->second);
    }
    for (const auto& out : node.outputs) {
      if (out.empty()) {
        step.out.push_back(-1);
        continue;
      }
      int s = addSlot(out);
      ex->slots_[static_cast<size_t>(s)].ptr = &ex->slots_[static_cast<size_t>(s)].owned;
      step.out.push_back(s);
    }
    ex->steps_.push_back(std::move(step));
  }
  // Slots vector is final now: re-point owned slots (the vector may have moved).
  for (auto& s : ex->slots_)
    if (!s.initializer) s.ptr = &s.owned;
  for (const auto& out : run.outputs) {
    auto it = slotIndex.find(out.name);
    if (it == slotIndex.end()) return Status::badInput("graph output '" + out.name + "' is never produced");
    ex->outputSlots_.push_back(it->second);
  }
  // One thread: convolutional graphs only, in chunks whose activations stay in cache.
  const bool convs = std::any_of(run.nodes.begin(), run.nodes.end(), [](const Node& n) { return n.opType == "Conv"; });
  // Some operators are samplewise only given their input's shape (a
  // flattening Reshape, axes counted from the end): models without
  // value_info (tf2onnx writes none by default) have their shapes inferred
  // on the optimised copy, once.
  auto canShard = [&] {
    if (shardable(run)) return true;
    if (!ex->optimized_) return false;
    const bool missing = std::any_of(run.nodes.begin(), run.nodes.end(), [&](const Node& n) {
      const ValueInfo* in = run.info(n.input(0));
      return !samplewise(run, n) && (!in || !in->hasShape);
    });
    return missing && inferShapes(*ex->optimized_, 2, options).isOk() && shardable(run);
  };
  if (options.optimizeForInference && options.splitBatch && (ex->ctx_.threads > 1 || convs) && canShard()) {
    // A convolutional graph goes in chunks of 4 images, whose activations stay
    // in the core's cache from one layer to the next (a whole batch of 256
    // goes through memory at every layer: 1.2-1.4x the CPU time of chunks of
    // 4 on resnet8 and mobilenet-tiny, one thread or two), or of 16 when its
    // weights are over 1 MB (lenet5-caffe: they are read again per chunk).
    if (convs) {
      size_t weightBytes = 0;
      for (const auto& kv : run.initializers) weightBytes += kv.second.bytes();
      ex->chunkImages_ = weightBytes > (size_t(1) << 20) ? 16 : 4;
    }
    ExecutorOptions one;
    one.threads = 1;
    one.maxTensorBytes = options.maxTensorBytes;
    one.maxRunBytes = std::max<uint64_t>(1, ex->maxRunBytes_ / static_cast<uint64_t>(ex->ctx_.threads));
    one.tuneCache = ex->tuneCache_;
    for (int t = 0; t < ex->ctx_.threads; ++t) {
      auto shard = Executor::create(run, one);  // the optimised graph: its kernels are already frozen
      if (!shard) return shard.status();
      ex->shards_.push_back(std::move(shard.value()));
    }
    // Kept after a split run: outputs and the activations their producers read.
    std::vector<bool> kept(ex->slots_.size(), false);
    for (int s : ex->outputSlots_) kept[static_cast<size_t>(s)] = true;
    for (const auto& step : ex->steps_) {
      bool producesOutput = false;
      for (int o : step.out) producesOutput |= o >= 0 && kept[static_cast<size_t>(o)];
      if (!producesOutput) continue;
      for (int i : step.in)
        if (i >= 0 && !ex->slots_[static_cast<size_t>(i)].initializer) kept[static_cast<size_t>(i)] = true;
    }
    for (int s : ex->inputSlots_) kept[static_cast<size_t>(s)] = false;  // the caller's own tensor
    for (size_t s = 0; s < kept.size(); ++s)
      if (kept[s]) ex->keptSlots_.push_back(static_cast<int>(s));
    ex->pool_.reset(new SplitPool());
    Executor* self = ex.get();
    for (int w = 1; w < ex->ctx_.threads; ++w)
      ex->pool_->workers.emplace_back([self, w] { self->pool_->serve(self, w); });
  }
  return ex;
}

void Executor::setThreads(int threads) { ctx_.threads = threads > 0 ? threads : defaultThreadCount(); }

void Executor::setProfiling(bool on) {
  profiling_ = on;
  nodeMs_.assign(on ? steps_.size() : 0, 0.0);
  for (auto& s : shards_) s->setProfiling(on);
}

std::vector<double> Executor::nodeMilliseconds() const {
  // Runs on the whole batch plus the slowest shard's time on split batches.
  std::vector<double> ms = nodeMs_, slowest(nodeMs_.size(), 0.0);
  for (const auto& s : shards_) {
    std::vector<double> part = s->nodeMilliseconds();
    for (size_t i = 0; i < part.size() && i < slowest.size(); ++i) slowest[i] = std::max(slowest[i], part[i]);
  }
  for (size_t i = 0; i < ms.size(); ++i) ms[i] += slowest[i];
  return ms;
}

std::vector<std::string> Executor::kernelChoices() const {
  if (lastRunSharded_) return shards_[0]->kernelChoices();
  std::vector<std::string> r;
  for (const auto& step : steps_) {
    auto* k = dynamic_cast<const kernels::KernelChoice*>(step.kernel.get());
    r.push_back(k ? k->kernelChoice() : std::string());
  }
  return r;
}

std::vector<double> Executor::dynamicSkippedFlops(bool silent) const {
  std::vector<double> r;
  if (lastRunSharded_) {
    for (const auto& part : silent ? chunkSilent_ : chunkSkipped_) r.insert(r.end(), part.begin(), part.end());
    return r;
  }
  for (const auto& step : steps_) {
    auto* k = dynamic_cast<const ops::SkipCounter*>(step.kernel.get());
    if (!k) continue;
    const std::vector<double>& s = silent ? k->silentFlops() : k->skippedFlops();
    r.resize(std::max(r.size(), s.size()), 0.0);
    for (size_t i = 0; i < s.size(); ++i) r[i] += s[i];
  }
  return r;
}

Status Executor::checkInput(const ValueInfo& info, const Tensor& t) const {
  if (!dtypeSupported(info.dtype) && info.dtype != DType::Undefined)
    return Status::unsupported("input '" + info.name + "' is " + dtypeName(info.dtype) +
                               ", an element type the engine does not handle");
  if (t.dtype() != info.dtype)
    return Status::badInput("input '" + info.name + "' expects " + dtypeName(info.dtype) + " but got " +
                            dtypeName(t.dtype()));
  if (!info.hasShape) return Status::ok();
  bool ok = static_cast<size_t>(t.rank()) == info.dims.size();
  for (size_t i = 0; ok && i < info.dims.size(); ++i)
    if (info.dims[i].value >= 0 && info.dims[i].value != t.shape()[i]) ok = false;
  if (!ok)
    return Status::badInput("input '" + info.name + "' expects shape " + info.shapeString() + " but got " +
                            shapeToString(t.shape()));
  return Status::ok();
}

Status Executor::run(const Tensor& input) {
  if (graph_->inputs.size() != 1)
    return Status::badInput("the model has " + std::to_string(graph_->inputs.size()) + " inputs; name each one");
  if (feed_.size() != 1 || feed_[0].first != graph_->inputs[0].name) feed_.assign(1, {graph_->inputs[0].name, nullptr});
  feed_[0].second = &input;
  return run(feed_);
}

Status Executor::run(const std::vector<std::pair<std::string, const Tensor*>>& inputs) {
  for (size_t i = 0; i < graph_->inputs.size(); ++i) {
    const ValueInfo& info = graph_->inputs[i];
    const Tensor* given = nullptr;
    for (const auto& kv : inputs)
      if (kv.first == info.name) given = kv.second;
    if (!given) return Status::badInput("missing input '" + info.name + "'");
    TOPIARY_RETURN_IF_ERROR(checkInput(info, *given));
    slots_[static_cast<size_t>(inputSlots_[i])].ptr = given;
  }
  for (const auto& kv : inputs) {
    bool known = false;
    for (const auto& info : graph_->inputs) known |= info.name == kv.first;
    if (!known) return Status::badInput("the model has no input named '" + kv.first + "'");
  }
  lastRunSharded_ = false;
  if (!shards_.empty() && static_cast<int>(shards_.size()) == ctx_.threads && inputs.size() == 1 &&
      inputs[0].second->rank() > 0 && inputs[0].second->dim(0) >= (ctx_.threads > 1 ? 2 * ctx_.threads : 8))
    return runSharded(*inputs[0].second);
  kernels::ThreadsScope budget(ctx_.threads);
  std::vector<const Tensor*>& in = stepIn_;
  std::vector<Tensor*>& out = stepOut_;
  TensorByteLimit limit(maxTensorBytes_);
  uint64_t held = 0;  // bytes of the tensors this run has produced so far (all are kept)
  for (size_t n = 0; n < steps_.size(); ++n) {
    if (ctx_.cancel && ctx_.cancel->load(std::memory_order_relaxed)) return Status::cancelled();
    Step& step = steps_[n];
    in.clear();
    out.clear();
    for (int s : step.in) in.push_back(s < 0 ? nullptr : slots_[static_cast<size_t>(s)].ptr);
    for (int s : step.out) out.push_back(s < 0 ? nullptr : &slots_[static_cast<size_t>(s)].owned);
    Status st;
    auto t0 = profiling_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    try {
      st = step.kernel->forward(in, out, ctx_);
    } catch (const TensorTooLarge& e) {
      st = Status::badInput(std::string("it would need too much memory: ") + e.what() +
                            " (ExecutorOptions::maxTensorBytes)");
    } catch (const std::bad_alloc&) {
      st = Status::badInput("out of memory");
    }
    if (profiling_)
      nodeMs_[n] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (st.isOk()) {
      for (int s : step.out)
        if (s >= 0) held += slots_[static_cast<size_t>(s)].owned.bytes();
      if (held > maxRunBytes_)
        st = Status::badInput("its outputs bring the tensors this run holds to " + byteSize(held) +
                              ", over the limit of " + byteSize(maxRunBytes_) + " (ExecutorOptions::maxRunBytes)");
    }
    if (!st.isOk()) {
      const Node& node = run_->nodes[n];
      return st.withContext("node '" + node.label() + "' (" + node.opType + ")");
    }
  }
  return Status::ok();
}

Status Executor::runSharded(const Tensor& x) {
  const int T = static_cast<int>(shards_.size());
  const int64_t N = x.dim(0), sample = static_cast<int64_t>(x.bytes()) / N;
  // Four chunks per thread (at least 8 images each): small enough that the
  // busy threads absorb the share of one the OS does not schedule; smaller
  // still for convolutional graphs (chunkImages_, set in create()).
  int64_t chunks = std::min<int64_t>(4 * T, N / 8);
  if (chunkImages_ > 0) chunks = std::max<int64_t>(chunks, N / chunkImages_);
  chunks = std::max<int64_t>(1, chunks);
  chunkInputs_.resize(static_cast<size_t>(chunks));
  chunkKept_.resize(static_cast<size_t>(chunks));
  chunkSkipped_.resize(static_cast<size_t>(chunks));
  chunkSilent_.resize(static_cast<size_t>(chunks));
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t n0 = N * k / chunks, n1 = N * (k + 1) / chunks;
    Shape& s = chunkShape_;  // reused: a warm run allocates nothing
    s = x.shape();
    s[0] = n1 - n0;
    Tensor& in = chunkInputs_[static_cast<size_t>(k)];
    in.resize(x.dtype(), s);
    std::memcpy(in.raw(), static_cast<const char*>(x.raw()) + n0 * sample, static_cast<size_t>((n1 - n0) * sample));
    chunkKept_[static_cast<size_t>(k)].resize(keptSlots_.size());
  }
  for (auto& sh : shards_) sh->setCancelFlag(ctx_.cancel);
  // The first run with a new chunk shape runs the largest chunk on every
  // shard, so each has sized its tensors and timed its kernels before the
  // chunks are shared out: which helper claims which chunk depends on the
  // OS, and a shard's first chunk would otherwise allocate and time in
  // whatever later run it happened to come.
  const Tensor& largest = chunkInputs_[static_cast<size_t>(chunks - 1)];
  if (largest.shape() != shardsWarmFor_) {
    for (auto& sh : shards_) TOPIARY_RETURN_IF_ERROR(sh->run(largest));
    shardsWarmFor_ = largest.shape();
  }
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(pool_->m);
    gen = ++pool_->generation & 0xffffffffu;
    pool_->status.assign(static_cast<size_t>(chunks), Status::ok());
    pool_->chunks.store(chunks);
    pool_->next.store(gen << 32);
  }
  pool_->wake.notify_all();
  runChunks(0, gen);
  {
    // Only helpers that joined this run are waited for.
    std::unique_lock<std::mutex> lock(pool_->m);
    pool_->idle.wait(lock, [&] { return pool_->busy == 0; });
  }
  for (const auto& st : pool_->status) TOPIARY_RETURN_IF_ERROR(st);
  // Concatenate the kept tensors of every chunk along the batch axis.
  for (size_t j = 0; j < keptSlots_.size(); ++j) {
    const Tensor& first = chunkKept_[0][j];
    if (first.rank() == 0) return Status::internal("a split batch produced a tensor with no batch axis");
    Shape& shape = chunkShape_;
    shape = first.shape();
    int64_t total = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      const Tensor& part = chunkKept_[static_cast<size_t>(k)][j];
      if (part.rank() != first.rank() || part.dtype() != first.dtype() ||
          !std::equal(part.shape().begin() + 1, part.shape().end(), first.shape().begin() + 1))
        return Status::internal("a split batch produced parts that do not concatenate");
      total += part.dim(0);
    }
    shape[0] = total;
    Tensor& dst = slots_[static_cast<size_t>(keptSlots_[j])].owned;
    dst.resize(first.dtype(), shape);
    char* out = static_cast<char*>(dst.raw());
    for (int64_t k = 0; k < chunks; ++k) {
      const Tensor& part = chunkKept_[static_cast<size_t>(k)][j];
      std::memcpy(out, part.raw(), part.bytes());
      out += part.bytes();
    }
  }
  lastRunSharded_ = true;
  return Status::ok();
}

// Claims chunks of run `generation` until none are left; each runs on this
// worker's own single-threaded executor and its kept tensors are copied out.
void Executor::runChunks(int worker, uint64_t generation) {
  Executor& shard = *shards_[static_cast<size_t>(worker)];
  for (;;) {
    uint64_t v = pool_->next.load();
    int64_t k;
    do {
      if ((v >> 32) != generation) return;
      k = static_cast<int64_t>(v & 0xffffffffu);
      if (k >= pool_->chunks.load()) return;
    } while (!pool_->next.compare_exchange_weak(v, v + 1));
    Status st;
    try {  // an exception must not leave a helper thread
      st = shard.run(chunkInputs_[static_cast<size_t>(k)]);
      if (st.isOk()) {
        chunkSkipped_[static_cast<size_t>(k)] = shard.dynamicSkippedFlops();
        chunkSilent_[static_cast<size_t>(k)] = shard.dynamicSkippedFlops(true);
      }
      if (st.isOk())
        for (size_t j = 0; j < keptSlots_.size(); ++j) {
          const Tensor& src = *shard.slots_[static_cast<size_t>(keptSlots_[j])].ptr;
          Tensor& dst = chunkKept_[static_cast<size_t>(k)][j];
          dst.resize(src.dtype(), src.shape());  // keeps its buffer between runs
          if (src.bytes()) std::memcpy(dst.raw(), src.raw(), src.bytes());
        }
    } catch (const std::bad_alloc&) {
      st = Status::badInput("out of memory");
    }
    pool_->status[static_cast<size_t>(k)] = st;
  }
}

const Tensor* Executor::value(const std::string& name) const {
  int s = slotOf(name);
  if (s < 0) return nullptr;
  const Slot& slot = slots_[static_cast<size_t>(s)];
  // A tensor inside a channels-last region (optimize/channels_last.h) holds
  // [N,H,W,C] data under its NCHW shape: not offered as a value.
  for (size_t n = 0; n < steps_.size(); ++n)
    if (std::find(steps_[n].out.begin(), steps_[n].out.end(), s) != steps_[n].out.end() &&
        (run_->nodes[n].attrInt("topiary.y_nhwc", 0) != 0 || run_->nodes[n].attrInt("topiary.nhwc", 0) != 0))
      return nullptr;
  if (lastRunSharded_ && !slot.initializer && std::find(inputSlots_.begin(), inputSlots_.end(), s) == inputSlots_.end())
    return std::find(keptSlots_.begin(), keptSlots_.end(), s) != keptSlots_.end() ? slot.ptr : nullptr;
  return slot.ptr;
}

int Executor::slotOf(const std::string& name) const {
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<const Tensor*> Executor::nodeInputs(size_t node) const {
  std::vector<const Tensor*> in;
  for (int s : steps_[node].in) in.push_back(s < 0 ? nullptr : slots_[static_cast<size_t>(s)].ptr);
  return in;
}

std::vector<Tensor*> Executor::nodeOutputs(size_t node) {
  std::vector<Tensor*> out;
  for (int s : steps_[node].out) out.push_back(s < 0 ? nullptr : &slots_[static_cast<size_t>(s)].owned);
  return out;
}

std::vector<double> Executor::nodeFlops() const {
  std::vector<double> flops;
  flops.reserve(steps_.size());
  for (const auto& step : steps_) {
    std::vector<Shape> in, out;
    for (int s : step.in) in.push_back(s < 0 ? Shape{} : slots_[static_cast<size_t>(s)].ptr->shape());
    for (int s : step.out) out.push_back(s < 0 ? Shape{} : slots_[static_cast<size_t>(s)].owned.shape());
    flops.push_back(step.kernel->flops(in, out));
  }
  return flops;
}

}  // namespace topiary
