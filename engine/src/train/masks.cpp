#include "topiary/train.h"

namespace topiary {

Status applyMasks(Graph& graph, const MaskSet& masks) {
  // Validate everything first so that a bad mask leaves the graph untouched.
  for (const auto& kv : masks) {
    auto it = graph.initializers.find(kv.first);
    if (it == graph.initializers.end()) return Status::badInput("mask for unknown initializer '" + kv.first + "'");
    if (it->second.dtype() != DType::Float || kv.second.dtype() != DType::Float)
      return Status::badInput("mask and initializer '" + kv.first + "' must both be float32");
    if (it->second.shape() != kv.second.shape())
      return Status::badInput("mask for '" + kv.first + "' has shape " + shapeToString(kv.second.shape()) +
                              " but the initializer has " + shapeToString(it->second.shape()));
  }
  for (const auto& kv : masks) {
    Tensor& w = graph.initializers[kv.first];
    const float* m = kv.second.f();
    float* p = w.f();
    // Exact zeros (not w*0, which keeps -0 and NaN) so pruned weights compare equal to 0.
    for (int64_t i = 0; i < w.numel(); ++i)
      if (m[i] == 0.f) p[i] = 0.f;
  }
  return Status::ok();
}

}  // namespace topiary
