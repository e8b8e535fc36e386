// NonZero, opsets 9..latest: the coordinates of the nonzero elements, as an
// int64 tensor [rank, count] in row-major order of the elements (a scalar
// counts as rank 1, as ONNX Runtime does). -0.0 is zero.
#include "ops/elementwise/dispatch.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class NonZero final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "NonZero"));
    const Tensor& x = *in[0];
    const int64_t n = x.numel();
    hits_.clear();
    auto collect = [&](auto isNonZero) {
      for (int64_t i = 0; i < n; ++i)
        if (isNonZero(i)) hits_.push_back(i);
    };
    if (x.dtype() == DType::Bool) {
      collect([&](int64_t i) { return x.data<uint8_t>()[i] != 0; });
    } else if (x.dtype() == DType::Float16) {
      collect([&](int64_t i) { return (x.data<uint16_t>()[i] & 0x7fff) != 0; });
    } else if (!visitNumeric(x.dtype(), [&](auto tag) {
                 using T = decltype(tag);
                 collect([&](int64_t i) { return x.data<T>()[i] != T(0); });
               })) {
      return Status::unsupported(std::string("NonZero does not support type ") + dtypeName(x.dtype()));
    }
    const Shape& s = x.shape();
    const int64_t rank = std::max<int64_t>(1, x.rank());
    const int64_t count = static_cast<int64_t>(hits_.size());
    out[0]->resize(DType::Int64, {rank, count});
    int64_t* y = out[0]->data<int64_t>();
    for (int64_t j = 0; j < count; ++j) {
      int64_t rem = hits_[static_cast<size_t>(j)];
      for (int64_t d = x.rank(); d-- > 0;) {
        y[d * count + j] = rem % s[static_cast<size_t>(d)];
        rem /= s[static_cast<size_t>(d)];
      }
      if (x.rank() == 0) y[j] = 0;
    }
    return Status::ok();
  }

  // One comparison per element, as Equal counts.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : static_cast<double>(numelOf(in[0]));
  }

 private:
  std::vector<int64_t> hits_;  // flat positions, reused between runs
};

}  // namespace

Result<std::unique_ptr<Kernel>> createNonZero(const Node&, int) { return make<NonZero>(); }

}  // namespace topiary::ops
