// evaluate() and computeGradients().
#include <algorithm>
#include <chrono>
#include <cmath>

#include "topiary/train.h"
#include "train/autograd.h"

namespace topiary {

namespace {

// The tensor whose argmax is the prediction and whose softmax gives the
// loss: the output, or the input of a final Softmax/LogSoftmax.
std::string logitsName(const Graph& g) {
  std::string name = g.outputs.empty() ? std::string() : g.outputs[0].name;
  int p = g.producerOf(name);
  if (p >= 0) {
    const Node& n = g.nodes[static_cast<size_t>(p)];
    if (n.opType == "Softmax" || n.opType == "LogSoftmax") return n.input(0);
  }
  return name;
}

}  // namespace

Evaluator::Evaluator(const Graph& graph, std::unique_ptr<Executor> ex)
    : ex_(std::move(ex)), logits_(logitsName(graph)) {}

Evaluator::~Evaluator() = default;

Result<std::unique_ptr<Evaluator>> Evaluator::create(const Graph& graph, ExecutorOptions options) {
  if (graph.inputs.size() != 1)
    return Status::badInput("evaluation needs a model with one input, this one has " +
                            std::to_string(graph.inputs.size()));
  options.optimizeForInference = true;  // fused, sparse kernels, batch split
  auto ex = Executor::create(graph, options);
  if (!ex) return ex.status();
  return std::unique_ptr<Evaluator>(new Evaluator(graph, std::move(ex.value())));
}

Status Evaluator::add(const Dataset& data, int batchSize, const std::atomic<bool>* cancel,
                      const std::function<void(int64_t done, int64_t total)>& progress) {
  using Clock = std::chrono::steady_clock;
  if (batchSize < 1) return Status::badInput("batch size must be >= 1, got " + std::to_string(batchSize));
  ex_->setCancelFlag(cancel);
  Tensor batch;
  std::vector<int> labels;
  const auto start = Clock::now();
  struct AddTime {  // wall time counts on every exit, error or not
    double& seconds;
    Clock::time_point start;
    ~AddTime() { seconds += std::chrono::duration<double>(Clock::now() - start).count(); }
  } addTime{seconds_, start};
  for (int64_t begin = 0; begin < data.size(); begin += batchSize) {
    if (cancel && cancel->load()) return Status::cancelled("evaluation cancelled");
    const int64_t count = std::min<int64_t>(batchSize, data.size() - begin);
    data.batch(begin, count, batch, &labels);
    if (!ex_->graph().inputs.empty()) fitImagesToInput(batch, ex_->graph().inputs[0]);
    const auto t0 = Clock::now();
    Status st = ex_->run(batch);
    if (!st.isOk()) return st;
    batchMs_.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    const Tensor* z = ex_->value(logits_);
    if (!z || z->dtype() != DType::Float || z->rank() != 2 || z->dim(0) != count)
      return Status::badInput("the model's output '" + logits_ + "' has shape " +
                              (z ? shapeToString(z->shape()) : std::string("?")) + "; expected [" +
                              std::to_string(count) + ", classes] for classification");
    const int64_t c = z->dim(1);
    for (int64_t i = 0; i < count; ++i) {
      const float* row = z->f() + i * c;
      const int64_t arg = std::max_element(row, row + c) - row;
      predictions_.push_back(static_cast<int>(arg));
      const int label = labels[static_cast<size_t>(i)];
      // A class the model cannot output: the data is not this model's (12
      // class folders for 10 outputs counted the extra classes as wrong).
      if (label >= c)
        return Status::badInput("sample " + std::to_string(samples_ + i) + " of '" + data.name + "' has label " +
                                std::to_string(label) + ", but the model's output '" + logits_ + "' has " +
                                std::to_string(c) + " classes (0 to " + std::to_string(c - 1) +
                                "): the data does not match this model");
      if (arg == label) ++correct_;
      if (label >= 0 && label < c) {
        double mx = row[arg], sum = 0;
        for (int64_t k = 0; k < c; ++k) sum += std::exp(static_cast<double>(row[k]) - mx);
        lossSum_ += std::log(sum) + mx - row[label];
      }
    }
    samples_ += count;
    if (progress) progress(begin + count, data.size());
  }
  return Status::ok();
}

EvalResult Evaluator::result() const {
  EvalResult r;
  r.samples = samples_;
  r.accuracy = samples_ ? static_cast<double>(correct_) / static_cast<double>(samples_) : 0;
  r.loss = samples_ ? lossSum_ / static_cast<double>(samples_) : 0;
  r.batchMs = batchMs_;
  r.seconds = seconds_;
  r.predictions = predictions_;
  std::vector<double> sorted = batchMs_;
  std::sort(sorted.begin(), sorted.end());
  r.latencyMsPerBatch = sorted.empty() ? 0 : sorted[sorted.size() / 2];
  return r;
}

Result<EvalResult> evaluate(const Graph& graph, const Dataset& data, int batchSize, int threads,
                            const std::atomic<bool>* cancel,
                            const std::function<void(int64_t done, int64_t total)>& progress) {
  if (batchSize < 1) return Status::badInput("batch size must be >= 1, got " + std::to_string(batchSize));
  if (data.size() == 0) return Status::badInput("the data set '" + data.name + "' is empty");
  ExecutorOptions eo;
  eo.threads = threads;
  auto ev = Evaluator::create(graph, eo);
  if (!ev) return ev.status();
  TOPIARY_RETURN_IF_ERROR(ev.value()->add(data, batchSize, cancel, progress));
  return ev.value()->result();
}

Result<GradientResult> computeGradients(const Graph& graph, const Tensor& images, const std::vector<int>& labels,
                                        const std::vector<std::string>& activationNames, int threads) {
  auto ag = training::Autograd::create(graph, threads);
  if (!ag) return ag.status();
  training::Autograd& a = *ag.value();
  // Inference mode: BatchNorm uses its running statistics, as the pruned
  // model will when it runs.
  TOPIARY_RETURN_IF_ERROR(a.forward(images, false));
  GradientResult r;
  int64_t correct = 0;
  TOPIARY_RETURN_IF_ERROR(a.loss(labels, r.loss, correct));
  TOPIARY_RETURN_IF_ERROR(a.backward());
  for (size_t i = 0; i < a.parameters().size(); ++i) {
    const std::string& name = a.parameters()[i];
    const Tensor* g = a.gradOfSlot(a.parameterSlot(i));
    r.weightGrads[name] = g ? *g : Tensor(DType::Float, graph.initializers.at(name).shape());
  }
  for (const auto& name : activationNames) {
    const Tensor* v = a.executor().value(name);
    if (!v) return Status::badInput("no tensor named '" + name + "' in the model");
    r.activations[name] = *v;
    const Tensor* g = a.gradOf(name);
    r.activationGrads[name] = g ? *g : Tensor(DType::Float, v->shape());
  }
  return r;
}

}  // namespace topiary
