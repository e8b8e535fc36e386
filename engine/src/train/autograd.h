// Reverse-mode differentiation over an Executor: a forward run keeps every
// activation in its slot, then a reverse sweep over the nodes calls each
// kernel's backward() and sums the gradients of tensors read by several
// nodes. Buffers persist across batches, so a steady batch shape allocates
// nothing (internal to the engine).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "topiary/executor.h"
#include "topiary/graph.h"
#include "topiary/status.h"

namespace topiary::training {

class Autograd {
 public:
  // The graph must outlive the Autograd. Fails (naming the node) when an
  // operator on the path from a weight to the logits has no backward pass,
  // or when the output is not logits [N, classes] (optionally followed by
  // Softmax/LogSoftmax, in which case the loss uses the Softmax's input).
  static Result<std::unique_ptr<Autograd>> create(const Graph& graph, int threads);

  Executor& executor() { return *exec_; }
  // Float initializers that receive gradients (BatchNorm running statistics excluded).
  const std::vector<std::string>& parameters() const { return paramNames_; }
  int parameterSlot(size_t i) const { return paramSlots_[i]; }

  // Forward pass (training: BatchNorm uses batch statistics).
  Status forward(const Tensor& images, bool training);
  // Mean softmax cross-entropy of the logits against labels; seeds the
  // logits' gradient. `correct` counts top-1 hits.
  Status loss(const std::vector<int>& labels, double& loss, int64_t& correct);
  // Reverse sweep from the seeded logits gradient.
  Status backward();

  // Gradient of a slot after backward(), or null when none reached it.
  const Tensor* gradOfSlot(int slot) const;
  const Tensor* gradOf(const std::string& name) const;
  const Tensor& logits() const;

  // BatchNorm nodes: index and the slots of its input, mean and var.
  struct BatchNormRef {
    size_t node;
    int x, mean, var;
    float momentum;
  };
  const std::vector<BatchNormRef>& batchNorms() const { return batchNorms_; }

 private:
  bool training_ = false;  // mode of the last forward; backward must differentiate the same function
  Autograd() = default;

  const Graph* graph_ = nullptr;
  std::unique_ptr<Executor> exec_;
  int logitsSlot_ = -1;
  std::vector<std::string> paramNames_;
  std::vector<int> paramSlots_;
  std::vector<bool> backwardNode_;            // node lies between a parameter/input and the logits
  std::vector<std::vector<bool>> wantGrad_;   // [node][input]: compute dL/d input
  std::vector<Tensor> grads_;                 // per slot
  std::vector<char> valid_;                   // per slot: grads_ holds this batch's gradient
  std::vector<std::vector<Tensor>> scratch_;  // [node][input] for fan-out accumulation
  std::vector<BatchNormRef> batchNorms_;
};

// Inputs of an operator that carry no gradient (running statistics, clip bounds, ...).
bool nonDifferentiableInput(const std::string& opType, size_t index);

}  // namespace topiary::training
