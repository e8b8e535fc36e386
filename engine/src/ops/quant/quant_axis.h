// Shared by QuantizeLinear/DequantizeLinear: how a scale/zero-point of one
// element (per tensor) or of `x.dim(axis)` elements (per axis) maps onto x.
#pragma once

#include <string>

#include "ops/common.h"

namespace topiary::ops {

struct QuantAxis {
  int64_t outer = 1, channels = 1, inner = 1;  // x viewed as [outer, channels, inner]
  bool perAxis = false;
};

// Checks scale (and zero point, when given) against x; errors name the op.
inline Result<QuantAxis> quantAxisFor(const Tensor& x, const Tensor& scale, const Tensor* zeroPoint, int64_t axis,
                                      const char* op) {
  QuantAxis q;
  if (scale.dtype() != DType::Float) return Status::unsupported(std::string(op) + ": y_scale must be float32");
  if (zeroPoint && zeroPoint->numel() != scale.numel())
    return Status::badInput(std::string(op) + ": zero point has " + std::to_string(zeroPoint->numel()) +
                            " elements, scale " + std::to_string(scale.numel()));
  if (scale.rank() == 0 || scale.numel() == 1) {
    q.inner = x.numel();  // one scale for everything
    return q;
  }
  if (scale.rank() != 1) return Status::badInput(std::string(op) + ": scale must be a scalar or 1-D");
  TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank()));
  if (x.dim(static_cast<int>(axis)) != scale.numel())
    return Status::badInput(std::string(op) + ": " + std::to_string(scale.numel()) + " scales for axis " +
                            std::to_string(axis) + " of size " + std::to_string(x.dim(static_cast<int>(axis))));
  q.perAxis = true;
  q.channels = scale.numel();
  for (int d = 0; d < axis; ++d) q.outer *= x.dim(d);
  for (int d = static_cast<int>(axis) + 1; d < x.rank(); ++d) q.inner *= x.dim(d);
  return q;
}

}  // namespace topiary::ops
