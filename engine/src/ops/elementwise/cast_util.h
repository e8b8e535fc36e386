// The conversion behind Cast and CastLike (defined in cast.cpp).
#pragma once

#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary::ops {

// Y = X converted to `to` (see cast.cpp for the rules). Unsupported for
// strings and types the engine does not store.
Status castTensor(const Tensor& X, Tensor& Y, DType to, int threads);

}  // namespace topiary::ops
