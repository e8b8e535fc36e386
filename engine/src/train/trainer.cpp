// train(): mini-batch training with the autograd sweep, an optimizer, masks,
// BatchNorm running statistics, hooks, progress and cancellation.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "data/loaders.h"
#include "topiary/train.h"
#include "train/autograd.h"
#include "train/optimizer.h"

namespace topiary {

namespace {

using Clock = std::chrono::steady_clock;

std::string num(float v) {
  char got[32];
  std::snprintf(got, sizeof got, "%g", static_cast<double>(v));
  return got;
}

// Comparisons are written so that NaN fails them: a NaN momentum or weight
// decay passed every `x < 0` test and turned the weights into NaN.
Status checkOptions(const TrainOptions& o) {
  if (o.epochs < 1) return Status::badInput("epochs must be >= 1, got " + std::to_string(o.epochs));
  if (o.batchSize < 1) return Status::badInput("batch size must be >= 1, got " + std::to_string(o.batchSize));
  if (!(o.lr > 0.f) || !std::isfinite(o.lr))
    return Status::badInput("learning rate must be a finite number above 0, got " + num(o.lr));
  if (o.optimizer != "sgd" && o.optimizer != "adam")
    return Status::badInput("unknown optimizer '" + o.optimizer + "'; use sgd or adam");
  if (o.schedule != "none" && o.schedule != "step" && o.schedule != "cosine")
    return Status::badInput("unknown schedule '" + o.schedule + "'; use none, step or cosine");
  if (!(o.weightDecay >= 0.f) || !std::isfinite(o.weightDecay))
    return Status::badInput("weight decay must be a finite number >= 0, got " + num(o.weightDecay));
  if (!(o.momentum >= 0.f && o.momentum < 1.f))
    return Status::badInput("momentum must be in [0, 1), got " + num(o.momentum));
  if (o.schedule == "step" && o.stepEvery < 1)
    return Status::badInput("step schedule: epochs between decays must be >= 1, got " + std::to_string(o.stepEvery));
  // A negative factor made the rate negative after the first decay: gradient
  // ascent, with no error.
  if (o.schedule == "step" && (!(o.stepGamma > 0.f) || !std::isfinite(o.stepGamma)))
    return Status::badInput("step schedule: the decay factor must be a finite number above 0, got " + num(o.stepGamma));
  if (o.augmentShift < 0 || o.augmentShift > 8)
    return Status::badInput("augmentation shift must be 0..8 pixels, got " + std::to_string(o.augmentShift));
  return Status::ok();
}

// Running mean/var (ONNX: running = running * momentum + batch * (1 - momentum),
// population variance) from the BatchNorm input of this batch.
void updateBatchNormStats(const Tensor& x, Tensor& mean, Tensor& var, float momentum) {
  if (x.rank() < 2) return;
  int64_t n = x.dim(0), c = x.dim(1);
  if (mean.numel() != c || var.numel() != c) return;
  int64_t inner = x.numel() / std::max<int64_t>(1, n * c);
  double count = static_cast<double>(n * inner);
  if (count <= 0) return;
  for (int64_t ch = 0; ch < c; ++ch) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float* p = x.f() + (i * c + ch) * inner;
      for (int64_t k = 0; k < inner; ++k) {
        s += p[k];
        s2 += static_cast<double>(p[k]) * p[k];
      }
    }
    double m = s / count, v = std::max(0.0, s2 / count - m * m);
    mean.f()[ch] = static_cast<float>(momentum * mean.f()[ch] + (1.f - momentum) * static_cast<float>(m));
    var.f()[ch] = static_cast<float>(momentum * var.f()[ch] + (1.f - momentum) * static_cast<float>(v));
  }
}

}  // namespace

Status train(Graph& graph, const Dataset& data, const TrainOptions& options, const MaskSet* masks,
             const TrainHooks& hooks, const std::function<bool(const TrainProgress&)>& progress,
             const std::atomic<bool>* cancel, const Dataset* validation) {
  TOPIARY_RETURN_IF_ERROR(checkOptions(options));
  if (data.size() == 0) return Status::badInput("the training data '" + data.name + "' is empty");
  // Everything the run may change, to restore on cancel or failure; taken
  // before the masks zero anything, so a cancelled run undoes that too.
  std::map<std::string, Tensor> snapshot;
  for (const auto& kv : graph.initializers)
    if (kv.second.dtype() == DType::Float) snapshot[kv.first] = kv.second;
  auto restore = [&](Status st) {
    for (auto& kv : snapshot) graph.initializers[kv.first] = kv.second;
    return st;
  };
  if (masks) {
    Status st = applyMasks(graph, *masks);
    if (!st.isOk()) return restore(st);
  }

  int threads = options.threads > 0 ? options.threads : defaultThreadCount();
  auto ag = training::Autograd::create(graph, threads);
  if (!ag) return ag.status();
  training::Autograd& a = *ag.value();
  Executor& ex = a.executor();
  const auto& params = a.parameters();
  std::vector<Tensor*> weights;
  for (const auto& name : params) weights.push_back(&graph.initializers[name]);
  std::vector<const Tensor*> paramMasks(params.size(), nullptr);
  if (masks)
    for (size_t i = 0; i < params.size(); ++i) {
      auto it = masks->find(params[i]);
      if (it != masks->end()) paramMasks[i] = &it->second;
    }
  struct BnStats {
    int x;
    Tensor *mean, *var;
    float momentum;
  };
  std::vector<BnStats> bns;
  for (const auto& b : a.batchNorms())
    bns.push_back({b.x, &graph.initializers[ex.slotName(b.mean)], &graph.initializers[ex.slotName(b.var)], b.momentum});

  training::Optimizer opt(options.optimizer, options.momentum, options.weightDecay);
  opt.reset(params.size());

  const int64_t n = data.size();
  const int64_t bs = std::min<int64_t>(options.batchSize, n);
  // The last partial batch is dropped: a steady shape keeps every buffer in place.
  int64_t batches = n / bs;
  if (options.maxBatchesPerEpoch > 0) batches = std::min(batches, options.maxBatchesPerEpoch);
  const int64_t totalSteps = batches * options.epochs;

  std::vector<int64_t> order(static_cast<size_t>(n)), idx(static_cast<size_t>(bs));
  Tensor batch;
  std::vector<int> labels;
  std::map<std::string, Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) grads[params[i]] = Tensor(DType::Float, weights[i]->shape());
  std::vector<Tensor*> gradPtrs;
  for (const auto& name : params) gradPtrs.push_back(&grads[name]);

  int64_t step = 0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    data::shuffleIndices(order, options.seed * 1000003ULL + static_cast<uint64_t>(epoch));
    TrainProgress pr;
    pr.epoch = epoch;
    pr.epochs = options.epochs;
    pr.batches = batches;
    double lossSum = 0;
    int64_t correct = 0, seen = 0;
    auto t0 = Clock::now();
    for (int64_t b = 0; b < batches; ++b) {
      if (cancel && cancel->load()) return restore(Status::cancelled("training cancelled"));
      std::copy(order.begin() + b * bs, order.begin() + (b + 1) * bs, idx.begin());
      data.gather(idx, batch, &labels);
      if (options.augmentShift > 0 || options.augmentFlip)
        augmentBatch(batch, options.augmentShift, options.augmentFlip, options.seed * 0x9E3779B97F4A7C15ULL + step);
      if (!graph.inputs.empty()) fitImagesToInput(batch, graph.inputs[0]);  // after augmenting [N,1,H,W]
      if (hooks.beforeForward) hooks.beforeForward(graph);
      Status st = a.forward(batch, true);
      if (!st.isOk()) return restore(st);
      for (auto& bn : bns) updateBatchNormStats(*ex.slotTensor(bn.x), *bn.mean, *bn.var, bn.momentum);
      double loss = 0;
      int64_t hits = 0;
      st = a.loss(labels, loss, hits);
      if (!st.isOk()) return restore(st);
      if (!std::isfinite(loss))
        return restore(Status::badInput("training diverged (loss is not finite) at epoch " + std::to_string(epoch) +
                                        "; lower the learning rate"));
      st = a.backward();
      if (!st.isOk()) return restore(st);
      for (size_t i = 0; i < params.size(); ++i) {
        const Tensor* g = a.gradOfSlot(a.parameterSlot(i));
        if (g && g->numel() == gradPtrs[i]->numel()) *gradPtrs[i] = *g;
        else gradPtrs[i]->setZero();
      }
      if (hooks.afterBackward) hooks.afterBackward(graph, grads);
      float lr = training::scheduledLr(options.lr, options.schedule, epoch, options.stepEvery, options.stepGamma, step,
                                    totalSteps);
      opt.beginStep();
      for (size_t i = 0; i < params.size(); ++i) {
        Tensor& g = *gradPtrs[i];
        if (paramMasks[i]) {
          const float* m = paramMasks[i]->f();
          float* pg = g.f();
          for (int64_t k = 0; k < g.numel(); ++k)
            if (m[k] == 0.f) pg[k] = 0.f;
        }
        opt.step(i, *weights[i], g, lr);
      }
      if (masks) {
        st = applyMasks(graph, *masks);
        if (!st.isOk()) return restore(st);
      }
      ++step;
      if (hooks.afterStep) hooks.afterStep(graph, step);
      lossSum += loss * static_cast<double>(bs);
      correct += hits;
      seen += bs;
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      pr.batch = b + 1;
      pr.loss = lossSum / static_cast<double>(seen);
      pr.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
      pr.imagesPerSecond = secs > 0 ? static_cast<double>(seen) / secs : 0;
      pr.epochDone = false;
      if (progress && b + 1 < batches && !progress(pr)) return restore(Status::cancelled("training cancelled"));
    }
    if (hooks.afterEpoch) hooks.afterEpoch(graph, epoch);
    if (validation && validation->size() > 0) {
      auto ev = evaluate(graph, *validation, 256, threads, cancel);
      if (!ev) return restore(ev.status());
      pr.validationAccuracy = ev->accuracy;
    }
    pr.epochDone = true;
    if (progress && !progress(pr)) return restore(Status::cancelled("training cancelled"));
  }
  return Status::ok();
}

}  // namespace topiary
