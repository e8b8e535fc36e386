#include "ops/tensor/shape_only.h"

#include <cstring>

#include "ops/tensor/tensor_util.h"

namespace topiary::ops {

Status ShapeOnlyKernel::forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                                const RunContext&) {
  TOPIARY_RETURN_IF_ERROR(expectInputs(in, inputs_, op_));
  const Tensor& x = *in[0];
  Shape& shape = shape_;
  TOPIARY_RETURN_IF_ERROR(outputShape(in, shape));
  auto n = checkedNumel(shape);
  if (!n) return n.status().withContext(op_);
  if (n.value() != x.numel())
    return Status::internal(std::string(op_) + " computed shape " + shapeToString(shape) + " for input " +
                            shapeToString(x.shape()) + " with a different element count");
  out[0]->resize(x.dtype(), shape);
  if (x.bytes()) std::memcpy(out[0]->raw(), x.raw(), x.bytes());
  return Status::ok();
}

Status ShapeOnlyKernel::backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                                 const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                                 const RunContext&) {
  zeroGradient(in, gradIn, 1);
  if (gradIn.empty() || !gradIn[0] || gradOut.empty() || !gradOut[0]) return Status::ok();
  TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[0], op_));
  if (gradOut[0]->numel() != in[0]->numel())
    return Status::badInput(std::string(op_) + " gradient has " + std::to_string(gradOut[0]->numel()) +
                            " elements, expected " + std::to_string(in[0]->numel()));
  gradIn[0]->resize(DType::Float, in[0]->shape());
  if (gradIn[0]->bytes()) std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
  return Status::ok();
}

}  // namespace topiary::ops
