// Base of the operators that only change the shape (Reshape, Flatten, Squeeze,
// Unsqueeze): the output holds the input's bytes under the shape outputShape()
// computes, and the gradient is the incoming gradient copied back under the
// input's shape. Each operator supplies only its shape rule.
#pragma once

#include "ops/common.h"

namespace topiary::ops {

class ShapeOnlyKernel : public Kernel {
 public:
  // `inputs`: how many inputs forward() requires (the data, plus e.g. a shape).
  ShapeOnlyKernel(const char* op, size_t inputs) : op_(op), inputs_(inputs) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext&) final;
  bool hasBackward() const final { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) final;

 protected:
  // The output shape for these inputs (in[0] is the data), or why there is none.
  virtual Status outputShape(const std::vector<const Tensor*>& in, Shape& shape) const = 0;

 private:
  const char* op_;
  size_t inputs_;
  Shape shape_;  // the last output shape, kept so that a warm run does not allocate
};

}  // namespace topiary::ops
