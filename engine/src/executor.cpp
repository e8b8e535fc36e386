#include "topiary/executor.h"

#include <omp.h>

#include <thread>
#include <unordered_map>

namespace topiary {

int defaultThreadCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

Result<std::unique_ptr<Executor>> Executor::create(const Graph& graph, const ExecutorOptions& options) {
  std::unique_ptr<Executor> ex(new Executor());
  ex->graph_ = &graph;
  ex->setThreads(options.threads);
  std::unordered_map<std::string, int> slotIndex;
  auto addSlot = [&](const std::string& name) {
    int idx = static_cast<int>(ex->slots_.size());
    ex->slots_.push_back(Slot{});
    ex->slots_.back().name = name;
    slotIndex[name] = idx;
    return idx;
  };
  for (const auto& in : graph.inputs) ex->inputSlots_.push_back(addSlot(in.name));
  for (const auto& kv : graph.initializers) {
    int s = addSlot(kv.first);
    ex->slots_[static_cast<size_t>(s)].ptr = &kv.second;
    ex->slots_[static_cast<size_t>(s)].initializer = true;
  }
  const OpRegistry& reg = OpRegistry::instance();
  int64_t opset = graph.opset();
  for (const auto& node : graph.nodes) {
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
  for (const auto& out : graph.outputs) {
    auto it = slotIndex.find(out.name);
    if (it == slotIndex.end()) return Status::badInput("graph output '" + out.name + "' is never produced");
    ex->outputSlots_.push_back(it->second);
  }
  return ex;
}

void Executor::setThreads(int threads) { ctx_.threads = threads > 0 ? threads : defaultThreadCount(); }

Status Executor::checkInput(const ValueInfo& info, const Tensor& t) const {
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
  return run({{graph_->inputs[0].name, &input}});
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
  omp_set_num_threads(ctx_.threads);
  std::vector<const Tensor*> in;
  std::vector<Tensor*> out;
  for (size_t n = 0; n < steps_.size(); ++n) {
    if (ctx_.cancel && ctx_.cancel->load(std::memory_order_relaxed)) return Status::cancelled();
    Step& step = steps_[n];
    in.clear();
    out.clear();
    for (int s : step.in) in.push_back(s < 0 ? nullptr : slots_[static_cast<size_t>(s)].ptr);
    for (int s : step.out) out.push_back(s < 0 ? nullptr : &slots_[static_cast<size_t>(s)].owned);
    Status st;
    try {
      st = step.kernel->forward(in, out, ctx_);
    } catch (const std::bad_alloc&) {
      st = Status::badInput("out of memory");
    }
    if (!st.isOk()) {
      const Node& node = graph_->nodes[n];
      return st.withContext("node '" + node.label() + "' (" + node.opType + ")");
    }
  }
  return Status::ok();
}

const Tensor* Executor::value(const std::string& name) const {
  int s = slotOf(name);
  return s < 0 ? nullptr : slots_[static_cast<size_t>(s)].ptr;
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

Result<Tensor> makeInputLike(const ValueInfo& info, int64_t batch) {
  if (!info.hasShape) return Status::badInput("input '" + info.name + "' declares no shape");
  if (!dtypeSupported(info.dtype)) return Status::unsupported("input '" + info.name + "' has an unsupported type");
  Shape s;
  for (const Dim& d : info.dims) s.push_back(d.value >= 0 ? d.value : batch);
  auto n = checkedNumel(s);
  if (!n) return n.status();
  if (n.value() > (int64_t(1) << 31)) return Status::badInput("input '" + info.name + "' is too large");
  return Tensor(info.dtype, s);
}

Status inferShapes(Graph& graph, int64_t batch) {
  auto ex = Executor::create(graph);
  if (!ex) return ex.status();
  std::vector<Tensor> inputs;
  inputs.reserve(graph.inputs.size());
  std::vector<std::pair<std::string, const Tensor*>> feed;
  for (const auto& in : graph.inputs) {
    auto t = makeInputLike(in, batch);
    if (!t) return t.status();
    inputs.push_back(std::move(t.value()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) feed.emplace_back(graph.inputs[i].name, &inputs[i]);
  TOPIARY_RETURN_IF_ERROR((*ex)->run(feed));
  // The batch dimension is symbolic when the first input's first dim is.
  std::string batchParam;
  bool symbolicBatch = !graph.inputs.empty() && graph.inputs[0].hasShape && !graph.inputs[0].dims.empty() &&
                       graph.inputs[0].dims[0].value < 0;
  if (symbolicBatch) batchParam = graph.inputs[0].dims[0].param.empty() ? "N" : graph.inputs[0].dims[0].param;
  for (const auto& node : graph.nodes)
    for (const auto& out : node.outputs) {
      if (out.empty()) continue;
      const Tensor* t = (*ex)->value(out);
      if (!t) continue;
      ValueInfo v;
      v.name = out;
      v.dtype = t->dtype();
      v.hasShape = true;
      for (size_t d = 0; d < t->shape().size(); ++d) {
        Dim dim{t->shape()[d], ""};
        if (symbolicBatch && d == 0 && t->shape()[d] == batch && batch != 1) dim = Dim{-1, batchParam};
        v.dims.push_back(dim);
      }
      if (graph.isGraphOutput(out)) continue;
      graph.valueInfo[out] = v;
    }
  return Status::ok();
}

}  // namespace topiary
