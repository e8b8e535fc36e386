// ScatterND, opsets 11..latest: a copy of data in which each index tuple
// (the last axis of indices, of length k <= rank(data)) selects a slice
// data[i0, ..., ik-1, :, ...] that receives the matching slice of updates
// (shape indices.shape[:-1] + data.shape[k:]). Negative indices count from
// the end; out of range is an error. Reductions as in ScatterElements.
#include "ops/tensor/scatter_reduction.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class ScatterND final : public Kernel {
 public:
  explicit ScatterND(ScatterReduction reduction) : reduction_(reduction) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 3, "ScatterND"));
    const Tensor &x = *in[0], &indices = *in[1], &updates = *in[2];
    if (indices.dtype() != DType::Int64 && indices.dtype() != DType::Int32)
      return Status::badInput(std::string("ScatterND indices must be int64 or int32, got ") +
                              dtypeName(indices.dtype()));
    if (updates.dtype() != x.dtype()) return Status::badInput("ScatterND updates must have the type of data");
    if (indices.rank() < 1) return Status::badInput("ScatterND indices must have rank >= 1");
    const int64_t k = indices.dim(-1);
    if (k < 1 || k > x.rank())
      return Status::badInput("ScatterND index tuples of length " + std::to_string(k) + " do not fit data of rank " +
                              std::to_string(x.rank()));
    Shape want(indices.shape().begin(), indices.shape().end() - 1);
    want.insert(want.end(), x.shape().begin() + k, x.shape().end());
    if (updates.shape() != want)
      return Status::badInput("ScatterND updates have shape " + shapeToString(updates.shape()) + ", expected " +
                              shapeToString(want));
    const auto strides = stridesOf(x.shape());
    // An empty tensor's dimensions may multiply past int64; no tuple is in range then.
    const int64_t block = x.numel() > 0 ? numelOf(Shape(x.shape().begin() + k, x.shape().end())) : 0;
    const std::vector<int64_t> idx = indices.toInt64s();
    const size_t tuples = static_cast<size_t>(k) > 0 ? idx.size() / static_cast<size_t>(k) : 0;
    offsets_.resize(tuples);
    for (size_t t = 0; t < tuples; ++t) {
      int64_t off = 0;
      for (int64_t d = 0; d < k; ++d) {
        const int64_t dim = x.shape()[static_cast<size_t>(d)];
        int64_t v = idx[t * static_cast<size_t>(k) + static_cast<size_t>(d)];
        if (v < -dim || v >= dim)
          return Status::badInput("ScatterND index " + std::to_string(v) + " is out of range for dimension " +
                                  std::to_string(dim) + " (axis " + std::to_string(d) + ")");
        if (v < 0) v += dim;
        off += v * strides[static_cast<size_t>(d)];
      }
      offsets_[t] = off;
    }
    *out[0] = x;
    return scatterInto(*out[0], updates, offsets_, block, reduction_, "ScatterND");
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return scatterFlops(in, reduction_);
  }

 private:
  ScatterReduction reduction_;
  std::vector<int64_t> offsets_;  // reused between runs
};

}  // namespace

Result<std::unique_ptr<Kernel>> createScatterND(const Node& node, int opset) {
  auto reduction = parseScatterReduction(node, opset, "ScatterND");
  if (!reduction) return reduction.status();
  return make<ScatterND>(reduction.value());
}

}  // namespace topiary::ops
