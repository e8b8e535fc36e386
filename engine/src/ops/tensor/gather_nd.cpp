// GatherND: each row of the last dimension of `indices` addresses a slice of
// `data` (its first k coordinates after `batch_dims` shared batch axes).
// Output shape: indices.shape[:-1] + data.shape[batch_dims+k:]. Each slice is
// one contiguous block; negative coordinates count from the end.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class GatherND final : public Kernel {
 public:
  explicit GatherND(int64_t batchDims) : b_(batchDims) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "GatherND"));
    const Tensor& x = *in[0];
    const Tensor& indices = *in[1];
    if (indices.dtype() != DType::Int64)
      return Status::badInput(std::string("GatherND indices must be int64, got ") + dtypeName(indices.dtype()));
    const int64_t r = x.rank(), q = indices.rank(), b = b_;
    if (q < 1 || r < 1 || b >= std::min(q, r))
      return Status::badInput("GatherND batch_dims " + std::to_string(b) + " needs data and indices of higher rank, got " +
                              shapeToString(x.shape()) + " and " + shapeToString(indices.shape()));
    const int64_t k = indices.dim(-1);
    if (k < 1 || k > r - b)
      return Status::badInput("GatherND index tuples of length " + std::to_string(k) + " do not fit data " +
                              shapeToString(x.shape()) + " after " + std::to_string(b) + " batch dims");
    for (int64_t d = 0; d < b; ++d)
      if (x.dim(static_cast<int>(d)) != indices.dim(static_cast<int>(d)))
        return Status::badInput("GatherND batch dimensions of data " + shapeToString(x.shape()) + " and indices " +
                                shapeToString(indices.shape()) + " differ");
    Shape shape(indices.shape().begin(), indices.shape().end() - 1);
    shape.insert(shape.end(), x.shape().begin() + b + k, x.shape().end());
    out[0]->resize(x.dtype(), shape);
    const auto strides = stridesOf(x.shape());
    const int64_t block = b + k < r ? strides[static_cast<size_t>(b + k - 1)] : 1;  // elements per slice
    const int64_t batchSize = b > 0 ? strides[static_cast<size_t>(b - 1)] : x.numel();
    int64_t perBatch = 1;  // index tuples per batch entry
    for (int64_t d = b; d < q - 1; ++d) perBatch *= indices.dim(static_cast<int>(d));
    const int64_t tuples = indices.numel() / k;
    const int64_t* idx = indices.data<int64_t>();
    const size_t es = dtypeSize(x.dtype()), bytes = static_cast<size_t>(block) * es;
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = perBatch > 0 ? (t / perBatch) * batchSize : 0;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t dim = x.dim(static_cast<int>(b + j));
        int64_t v = idx[t * k + j];
        if (v < -dim || v >= dim)
          return Status::badInput("GatherND index " + std::to_string(v) + " is out of range for dimension " +
                                  std::to_string(dim));
        off += (v < 0 ? v + dim : v) * strides[static_cast<size_t>(b + j)];
      }
      if (bytes)
        std::memcpy(static_cast<char*>(out[0]->raw()) + static_cast<size_t>(t) * bytes,
                    static_cast<const char*>(x.raw()) + static_cast<size_t>(off) * es, bytes);
    }
    return Status::ok();
  }

 private:
  int64_t b_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createGatherND(const Node& node, int) {
  int64_t b = node.attrInt("batch_dims", 0);
  if (b < 0) return Status::badInput("GatherND batch_dims must be >= 0, got " + std::to_string(b));
  return make<GatherND>(b);
}

}  // namespace topiary::ops
