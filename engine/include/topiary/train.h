// Training and evaluation on top of the Executor: autograd over the graph,
// cross-entropy loss, SGD/Adam, schedules, masks (pruned weights stay zero),
// hooks for pruning methods (ADMM, dynamic network surgery, quantization-aware
// training), progress and cancellation between batches.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "topiary/dataset.h"
#include "topiary/executor.h"
#include "topiary/graph.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

// Initializer name -> mask of the same shape (1 keep, 0 pruned).
using MaskSet = std::map<std::string, Tensor>;

// Applies masks to the graph's initializers in place (w *= mask).
Status applyMasks(Graph& graph, const MaskSet& masks);

struct TrainOptions {
  int epochs = 1;
  int batchSize = 64;
  float lr = 0.01f;
  std::string optimizer = "sgd";   // sgd | adam
  float momentum = 0.9f;
  float weightDecay = 0.f;
  std::string schedule = "none";   // none | step | cosine
  int stepEvery = 1;               // step schedule: epochs between decays
  float stepGamma = 0.1f;
  uint64_t seed = 1;
  int threads = 0;                 // 0: every core
  int64_t maxBatchesPerEpoch = 0;  // 0: whole epoch (tests use fewer)
  // Data augmentation of image batches ([N,C,H,W]): each training image is
  // shifted by up to `augmentShift` pixels in x and y (edges replicated) and,
  // with augmentFlip, mirrored left-right with probability 1/2. Drawn from
  // the seed and the step, so a run is reproducible. 0 / false: off.
  int augmentShift = 0;
  bool augmentFlip = false;
};

// Applies TrainOptions' augmentation to one batch in place (exposed for tests).
// `key` selects the random draw (the trainer passes seed and step).
void augmentBatch(Tensor& batch, int shift, bool flip, uint64_t key);

struct TrainProgress {
  int epoch = 0;            // 1-based
  int epochs = 0;
  int64_t batch = 0;        // batches done in this epoch
  int64_t batches = 0;      // batches per epoch
  double loss = 0;          // running mean loss this epoch
  double accuracy = 0;      // running training accuracy this epoch
  double imagesPerSecond = 0;
  double validationAccuracy = -1;  // at epoch end when a validation set is given
  bool epochDone = false;
};

// Hooks for pruning methods. Each is optional.
struct TrainHooks {
  // Before each forward pass (e.g. fake-quantize weights, keeping full-precision copies).
  std::function<void(Graph&)> beforeForward;
  // After gradients are computed, before the optimizer step; grads by initializer
  // name (e.g. ADMM adds rho*(W - Z + U); straight-through estimator restores weights).
  std::function<void(Graph&, std::map<std::string, Tensor>& grads)> afterBackward;
  // After each optimizer step and mask application (e.g. DNS updates masks).
  std::function<void(Graph&, int64_t step)> afterStep;
  // At the end of each epoch.
  std::function<void(Graph&, int epoch)> afterEpoch;
};

// Trains the graph's float initializers in place (the graph must end in
// logits [N, classes] or a Softmax/LogSoftmax over them). With masks, pruned
// weights are zero after every step and receive no update. `progress` is
// called after every batch; returning false cancels. A cancelled or failed
// run restores the weights it started from and returns Cancelled / the error.
Status train(Graph& graph, const Dataset& data, const TrainOptions& options, const MaskSet* masks = nullptr,
             const TrainHooks& hooks = {}, const std::function<bool(const TrainProgress&)>& progress = {},
             const std::atomic<bool>* cancel = nullptr, const Dataset* validation = nullptr);

struct EvalResult {
  double accuracy = 0;       // 0..1
  int64_t samples = 0;
  double loss = 0;           // mean cross-entropy
  double latencyMsPerBatch = 0;  // median over batches
  std::vector<double> batchMs;   // wall time of each batch's forward pass
  double seconds = 0;        // wall time of the whole evaluation
  std::vector<int> predictions;
};

// Top-1 accuracy and mean cross-entropy accumulated over data sets evaluated
// one after the other on ONE executor (optimised for inference): its weights
// are packed and its kernels timed on the first batch only, so a preview can
// publish an estimate on the first images and refine it on the rest without
// paying that set-up twice. The prediction is the argmax of the logits: the
// output, or the input of a final Softmax/LogSoftmax.
class Evaluator {
 public:
  // `options.optimizeForInference` is forced on: weights are fixed while evaluating.
  static Result<std::unique_ptr<Evaluator>> create(const Graph& graph, ExecutorOptions options = {});
  ~Evaluator();
  // Evaluates every sample of `data` in batches and adds them to the totals.
  // On an error or cancel the totals keep the batches completed before it.
  Status add(const Dataset& data, int batchSize = 256, const std::atomic<bool>* cancel = nullptr,
             const std::function<void(int64_t done, int64_t total)>& progress = {});
  // The totals so far (accuracy and loss over every sample added; batchMs of every batch).
  EvalResult result() const;
  int64_t samples() const { return samples_; }
  int64_t correct() const { return correct_; }
  Executor& executor() { return *ex_; }

 private:
  Evaluator(const Graph& graph, std::unique_ptr<Executor> ex);
  std::unique_ptr<Executor> ex_;
  std::string logits_;
  int64_t samples_ = 0, correct_ = 0;
  double lossSum_ = 0, seconds_ = 0;
  std::vector<double> batchMs_;
  std::vector<int> predictions_;
};

// Evaluates top-1 accuracy over the data set in batches (one Evaluator).
Result<EvalResult> evaluate(const Graph& graph, const Dataset& data, int batchSize = 256, int threads = 0,
                            const std::atomic<bool>* cancel = nullptr,
                            const std::function<void(int64_t done, int64_t total)>& progress = {});

// Gradients of the mean cross-entropy loss with respect to every float
// initializer (and, when requested, intermediate activations) for one batch.
// Used by Taylor-criterion pruning and tests.
struct GradientResult {
  double loss = 0;
  std::map<std::string, Tensor> weightGrads;      // initializer name -> dL/dW
  std::map<std::string, Tensor> activationGrads;  // tensor name -> dL/dA (when asked)
  std::map<std::string, Tensor> activations;      // tensor name -> A (when asked)
};
Result<GradientResult> computeGradients(const Graph& graph, const Tensor& images, const std::vector<int>& labels,
                                        const std::vector<std::string>& activationNames = {}, int threads = 0);

}  // namespace topiary
