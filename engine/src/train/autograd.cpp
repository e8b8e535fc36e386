#include "train/autograd.h"

#include <cmath>

#include "kernels/threading.h"

namespace topiary::training {

bool nonDifferentiableInput(const std::string& op, size_t i) {
  if (op == "BatchNormalization") return i == 3 || i == 4;
  if (op == "Clip") return i >= 1;
  if (op == "Pad" || op == "Resize" || op == "Upsample" || op == "Dropout" || op == "Reshape" || op == "Slice" ||
      op == "Expand" || op == "Tile" || op == "Squeeze" || op == "Unsqueeze")
    return i >= 1;
  return false;
}

Result<std::unique_ptr<Autograd>> Autograd::create(const Graph& graph, int threads) {
  std::unique_ptr<Autograd> a(new Autograd());
  a->graph_ = &graph;
  ExecutorOptions eo;
  eo.threads = threads;
  auto ex = Executor::create(graph, eo);
  if (!ex) return ex.status();
  a->exec_ = std::move(ex.value());
  Executor& e = *a->exec_;
  if (graph.outputs.empty()) return Status::badInput("the model has no output to train");
  if (graph.inputs.size() != 1)
    return Status::badInput("training needs a model with one input (images), this one has " +
                            std::to_string(graph.inputs.size()));
  // The loss reads logits: the output itself, or the input of a final (Log)Softmax.
  std::string logits = graph.outputs[0].name;
  int prod = graph.producerOf(logits);
  if (prod >= 0) {
    const Node& p = graph.nodes[static_cast<size_t>(prod)];
    if (p.opType == "Softmax" || p.opType == "LogSoftmax") logits = p.input(0);
  }
  a->logitsSlot_ = e.slotOf(logits);
  if (a->logitsSlot_ < 0) return Status::badInput("the model's output '" + logits + "' is not computed");

  size_t nNodes = e.nodeCount(), nSlots = e.slotCount();
  // needs[s]: slot s depends on a trainable initializer (gradient must flow through it).
  std::vector<char> isParam(nSlots, 0), depends(nSlots, 0), reaches(nSlots, 0);
  for (size_t n = 0; n < nNodes; ++n) {
    const Node& node = graph.nodes[n];
    const auto& ins = e.nodeInputSlots(n);
    for (size_t i = 0; i < ins.size(); ++i) {
      int s = ins[i];
      if (s < 0 || !e.slotIsInitializer(s) || nonDifferentiableInput(node.opType, i)) continue;
      if (e.slotTensor(s)->dtype() == DType::Float) isParam[static_cast<size_t>(s)] = 1;
    }
  }
  for (size_t s = 0; s < nSlots; ++s) depends[s] = isParam[s];
  for (size_t n = 0; n < nNodes; ++n) {
    const Node& node = graph.nodes[n];
    bool any = false;
    const auto& ins = e.nodeInputSlots(n);
    for (size_t i = 0; i < ins.size(); ++i)
      if (ins[i] >= 0 && depends[static_cast<size_t>(ins[i])] && !nonDifferentiableInput(node.opType, i)) any = true;
    if (any)
      for (int s : e.nodeOutputSlots(n))
        if (s >= 0) depends[static_cast<size_t>(s)] = 1;
  }
  // reaches[s]: the logits depend on slot s.
  reaches[static_cast<size_t>(a->logitsSlot_)] = 1;
  a->backwardNode_.assign(nNodes, false);
  a->wantGrad_.resize(nNodes);
  a->scratch_.resize(nNodes);
  for (size_t n = nNodes; n-- > 0;) {
    const Node& node = graph.nodes[n];
    bool outReaches = false;
    for (int s : e.nodeOutputSlots(n))
      if (s >= 0 && reaches[static_cast<size_t>(s)]) outReaches = true;
    const auto& ins = e.nodeInputSlots(n);
    a->wantGrad_[n].assign(ins.size(), false);
    a->scratch_[n].resize(ins.size());
    if (!outReaches) continue;
    bool any = false;
    for (size_t i = 0; i < ins.size(); ++i) {
      int s = ins[i];
      if (s < 0 || nonDifferentiableInput(node.opType, i)) continue;
      reaches[static_cast<size_t>(s)] = 1;
      if (depends[static_cast<size_t>(s)]) {
        a->wantGrad_[n][i] = true;
        any = true;
      }
    }
    if (!any) continue;
    if (!e.kernel(n).hasBackward())
      return Status::unsupported("operator " + node.opType + " (node '" + node.label() +
                                 "') has no backward pass, so this model cannot be trained");
    a->backwardNode_[n] = true;
  }
  for (const auto& kv : graph.initializers) {
    int s = e.slotOf(kv.first);
    if (s >= 0 && isParam[static_cast<size_t>(s)] && reaches[static_cast<size_t>(s)]) {
      a->paramNames_.push_back(kv.first);
      a->paramSlots_.push_back(s);
    }
  }
  for (size_t n = 0; n < nNodes; ++n) {
    const Node& node = graph.nodes[n];
    if (node.opType != "BatchNormalization") continue;
    const auto& ins = e.nodeInputSlots(n);
    if (ins.size() < 5 || ins[3] < 0 || ins[4] < 0 || !e.slotIsInitializer(ins[3]) || !e.slotIsInitializer(ins[4]))
      continue;  // statistics computed by other nodes: nothing to update
    a->batchNorms_.push_back({n, ins[0], ins[3], ins[4], node.attrFloat("momentum", 0.9f)});
  }
  a->grads_.resize(nSlots);
  a->valid_.assign(nSlots, 0);
  return a;
}

Status Autograd::forward(const Tensor& images, bool training) {
  training_ = training;
  exec_->setTraining(training);
  Status st = exec_->run(images);
  exec_->setTraining(false);
  return st;
}

const Tensor& Autograd::logits() const { return *exec_->slotTensor(logitsSlot_); }

Status Autograd::loss(const std::vector<int>& labels, double& lossOut, int64_t& correct) {
  const Tensor& z = logits();
  if (z.rank() != 2 || z.dim(0) != static_cast<int64_t>(labels.size()))
    return Status::badInput("the model's logits have shape " + shapeToString(z.shape()) + "; expected [" +
                            std::to_string(labels.size()) + ", classes]");
  int64_t n = z.dim(0), c = z.dim(1);
  Tensor& g = grads_[static_cast<size_t>(logitsSlot_)];
  g.resize(DType::Float, z.shape());
  double total = 0;
  correct = 0;
  const float invN = 1.f / static_cast<float>(std::max<int64_t>(1, n));
  for (int64_t i = 0; i < n; ++i) {
    const float* row = z.f() + i * c;
    float* grow = g.f() + i * c;
    int label = labels[static_cast<size_t>(i)];
    if (label < 0 || label >= c)
      return Status::badInput("label " + std::to_string(label) + " is outside the model's " + std::to_string(c) +
                              " classes");
    int64_t arg = 0;
    float mx = row[0];
    for (int64_t k = 1; k < c; ++k)
      if (row[k] > mx) mx = row[k], arg = k;
    if (arg == label) ++correct;
    double sum = 0;
    for (int64_t k = 0; k < c; ++k) sum += std::exp(static_cast<double>(row[k] - mx));
    double logSum = std::log(sum);
    total += logSum - static_cast<double>(row[label] - mx);
    for (int64_t k = 0; k < c; ++k)
      grow[k] = static_cast<float>(std::exp(static_cast<double>(row[k] - mx) - logSum)) * invN;
    grow[label] -= invN;
  }
  lossOut = total / static_cast<double>(std::max<int64_t>(1, n));
  std::fill(valid_.begin(), valid_.end(), 0);
  valid_[static_cast<size_t>(logitsSlot_)] = 1;
  return Status::ok();
}

Status Autograd::backward() {
  Executor& e = *exec_;
  kernels::ThreadsScope budget(e.threads());
  // Kernels read the mode from the run context: BatchNorm in training mode
  // differentiates through the batch statistics its forward used.
  e.setTraining(training_);
  struct Reset {
    Executor& e;
    ~Reset() { e.setTraining(false); }
  } reset{e};
  std::vector<const Tensor*> in, out, gradOut;
  std::vector<Tensor*> gradIn;
  std::vector<int> direct;
  for (size_t n = e.nodeCount(); n-- > 0;) {
    if (!backwardNode_[n]) continue;
    const auto& outSlots = e.nodeOutputSlots(n);
    gradOut.clear();
    bool any = false;
    for (int s : outSlots) {
      bool v = s >= 0 && valid_[static_cast<size_t>(s)];
      gradOut.push_back(v ? &grads_[static_cast<size_t>(s)] : nullptr);
      any |= v;
    }
    if (!any) continue;
    const auto& inSlots = e.nodeInputSlots(n);
    gradIn.assign(inSlots.size(), nullptr);
    direct.assign(inSlots.size(), 0);
    for (size_t i = 0; i < inSlots.size(); ++i) {
      if (!wantGrad_[n][i]) continue;
      int s = inSlots[i];
      bool taken = false;  // the same tensor read twice by this node
      for (size_t j = 0; j < i; ++j) taken |= direct[j] && inSlots[j] == s;
      if (!valid_[static_cast<size_t>(s)] && !taken) {
        gradIn[i] = &grads_[static_cast<size_t>(s)];
        direct[i] = 1;
      } else {
        gradIn[i] = &scratch_[n][i];
      }
    }
    in = e.nodeInputs(n);
    out.clear();
    for (Tensor* t : e.nodeOutputs(n)) out.push_back(t);
    Status st = e.kernel(n).backward(in, out, gradOut, gradIn, e.context());
    if (!st.isOk()) {
      const Node& node = graph_->nodes[n];
      return st.withContext("backward of node '" + node.label() + "' (" + node.opType + ")");
    }
    for (size_t i = 0; i < inSlots.size(); ++i) {
      if (!gradIn[i]) continue;
      size_t s = static_cast<size_t>(inSlots[i]);
      if (direct[i]) {
        valid_[s] = 1;
        continue;
      }
      Tensor& acc = grads_[s];
      const Tensor& add = scratch_[n][i];
      if (acc.numel() != add.numel())
        return Status::internal("gradient shapes disagree for '" + e.slotName(inSlots[i]) + "'");
      float* a = acc.f();
      const float* b = add.f();
      for (int64_t k = 0; k < acc.numel(); ++k) a[k] += b[k];
    }
  }
  return Status::ok();
}

const Tensor* Autograd::gradOfSlot(int slot) const {
  if (slot < 0 || static_cast<size_t>(slot) >= valid_.size() || !valid_[static_cast<size_t>(slot)]) return nullptr;
  return &grads_[static_cast<size_t>(slot)];
}

const Tensor* Autograd::gradOf(const std::string& name) const { return gradOfSlot(exec_->slotOf(name)); }

}  // namespace topiary::training
