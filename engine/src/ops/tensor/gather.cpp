// Gather: picks slices of `data` along `axis` by index (int32 or int64,
// negative counts from the end). Output shape: data[:axis] + indices.shape +
// data[axis+1:]. Each pick copies one contiguous block of `inner` elements.
// The gradient w.r.t. data adds each output block back at its index.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Gather final : public Kernel {
 public:
  explicit Gather(int64_t axis) : axis_(axis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Gather"));
    const Tensor& x = *in[0];
    Plan p;
    TOPIARY_RETURN_IF_ERROR(plan(x, *in[1], p));
    out[0]->resize(x.dtype(), p.shape);
    const size_t es = dtypeSize(x.dtype());
    const size_t block = static_cast<size_t>(p.inner) * es;
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(out[0]->raw());
    const int64_t nIdx = static_cast<int64_t>(p.idx.size());
    if (block == 0) return Status::ok();
    parallelFor(p.outer * nIdx, ctx.threads, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        const int64_t o = j / nIdx, k = p.idx[static_cast<size_t>(j % nIdx)];
        std::memcpy(dst + static_cast<size_t>(j) * block, src + static_cast<size_t>(o * p.dim + k) * block, block);
      }
    }, std::max<int64_t>(1, int64_t(1 << 15) / static_cast<int64_t>(block)));
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    zeroGradient(in, gradIn, 1);
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[0], "Gather"));
    Plan p;
    TOPIARY_RETURN_IF_ERROR(plan(*in[0], *in[1], p));
    if (gradOut[0]->shape() != p.shape) return Status::badInput("Gather gradient has the wrong shape");
    gradIn[0]->resize(DType::Float, in[0]->shape());
    gradIn[0]->setZero();
    const float* gy = gradOut[0]->f();
    float* gx = gradIn[0]->f();
    const int64_t nIdx = static_cast<int64_t>(p.idx.size());
    // Repeated indices accumulate, so threads split the outer dimension only
    // (different outer indices never touch the same gradient element).
    parallelFor(p.outer, ctx.threads, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        for (int64_t j = 0; j < nIdx; ++j) {
          const float* g = gy + (o * nIdx + j) * p.inner;
          float* t = gx + (o * p.dim + p.idx[static_cast<size_t>(j)]) * p.inner;
          for (int64_t i = 0; i < p.inner; ++i) t[i] += g[i];
        }
    }, std::max<int64_t>(1, int64_t(1 << 14) / std::max<int64_t>(1, nIdx * p.inner)));
    return Status::ok();
  }

 private:
  struct Plan {
    Shape shape;
    int64_t outer = 1, inner = 1, dim = 0;
    std::vector<int64_t> idx;  // normalised, in range
  };

  Status plan(const Tensor& x, const Tensor& indices, Plan& p) const {
    if (indices.dtype() != DType::Int64 && indices.dtype() != DType::Int32)
      return Status::badInput(std::string("Gather indices must be int64 or int32, got ") + dtypeName(indices.dtype()));
    if (x.rank() == 0) return Status::badInput("Gather cannot index a scalar");
    int64_t axis = axis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank(), "Gather axis"));
    p.dim = x.shape()[static_cast<size_t>(axis)];
    p.outer = 1;
    p.inner = 1;
    for (int64_t d = 0; d < axis; ++d) p.outer *= x.shape()[static_cast<size_t>(d)];
    for (int d = static_cast<int>(axis) + 1; d < x.rank(); ++d) p.inner *= x.shape()[static_cast<size_t>(d)];
    p.idx = indices.toInt64s();
    for (auto& k : p.idx) {
      if (k < -p.dim || k >= p.dim)
        return Status::badInput("Gather index " + std::to_string(k) + " is out of range for dimension " +
                                std::to_string(p.dim) + " (axis " + std::to_string(axis) + ")");
      if (k < 0) k += p.dim;
    }
    p.shape.assign(x.shape().begin(), x.shape().begin() + axis);
    p.shape.insert(p.shape.end(), indices.shape().begin(), indices.shape().end());
    p.shape.insert(p.shape.end(), x.shape().begin() + axis + 1, x.shape().end());
    return checkOutputShape(p.shape, x.dtype(), "Gather");
  }

  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createGather(const Node& node, int) { return make<Gather>(node.attrInt("axis", 0)); }

}  // namespace topiary::ops
