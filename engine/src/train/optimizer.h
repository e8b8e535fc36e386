// SGD with momentum and Adam over a fixed list of parameters, with L2 weight
// decay on weight matrices/filters (rank >= 2; biases and BatchNorm affine
// parameters are not decayed). State buffers are allocated once.
#pragma once

#include <string>
#include <vector>

#include "topiary/tensor.h"

namespace topiary::training {

class Optimizer {
 public:
  Optimizer(std::string kind, float momentum, float weightDecay) : kind_(std::move(kind)), momentum_(momentum), wd_(weightDecay) {}
  // One update of w from its gradient g; `slot` identifies the parameter (0..count-1).
  void step(size_t slot, Tensor& w, const Tensor& g, float lr);
  void reset(size_t params);
  // Call once per optimisation step, before the step() calls of its parameters.
  void beginStep() { ++t_; }

 private:
  std::string kind_;
  float momentum_, wd_;
  int64_t t_ = 0;  // Adam's step count
  std::vector<Tensor> m_, v_;
};

// Learning rate at epoch (1-based) / global step for a schedule.
float scheduledLr(float base, const std::string& schedule, int epoch, int stepEvery, float gamma, int64_t step,
                  int64_t totalSteps);

}  // namespace topiary::training
