// EyeLike, opsets 9..latest: a 2-D tensor of the input's shape with ones on
// diagonal k (positive: above the main one) and zeros elsewhere, of the
// type named by `dtype` (the input's type when absent).
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class EyeLike final : public Kernel {
 public:
  EyeLike(DType dtype, bool hasDType, int64_t k) : dtype_(dtype), hasDType_(hasDType), k_(k) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "EyeLike"));
    const Tensor& x = *in[0];
    if (x.rank() != 2) return Status::badInput("EyeLike needs a 2-D input, got " + shapeToString(x.shape()));
    const DType dt = hasDType_ ? dtype_ : x.dtype();
    Tensor one = Tensor::scalar(1.f).cast(dt == DType::Float16 ? DType::Float : dt);
    if (dt == DType::Float16) {
      const uint16_t bits = 0x3c00;  // 1.0 in IEEE half precision
      one = Tensor(DType::Float16, {});
      std::memcpy(one.raw(), &bits, sizeof(bits));
    }
    out[0]->resize(dt, x.shape());
    out[0]->setZero();
    const int64_t rows = x.dim(0), cols = x.dim(1), es = static_cast<int64_t>(dtypeSize(dt));
    char* y = static_cast<char*>(out[0]->raw());
    const int64_t k = std::clamp<int64_t>(k_, -rows, cols);  // k may be huge
    for (int64_t i = std::max<int64_t>(0, -k); i < rows && i + k < cols; ++i)
      std::memcpy(y + (i * cols + i + k) * es, one.raw(), static_cast<size_t>(es));
    return Status::ok();
  }

 private:
  DType dtype_;
  bool hasDType_;
  int64_t k_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createEyeLike(const Node& node, int) {
  const bool hasDType = node.hasAttr("dtype");
  const int64_t code = node.attrInt("dtype", 1);
  const DType dt = static_cast<DType>(code);
  if (hasDType && (code < 1 || code > 13 || !dtypeSupported(dt)))
    return Status::unsupported("EyeLike dtype " + std::to_string(code) + " is not supported");
  return make<EyeLike>(dt, hasDType, node.attrInt("k", 0));
}

}  // namespace topiary::ops
