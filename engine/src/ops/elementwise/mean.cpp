// Mean: elementwise mean of any number of broadcast float inputs.
#include <algorithm>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/variadic.h"

namespace topiary::ops {
namespace {

class Mean final : public VariadicKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(fold("Mean", in, out, ctx, true, [](auto a, auto b) { return a + b; }));
    // Divide the folded sum by the input count.
    const double inv = 1.0 / static_cast<double>(in.size());
    Tensor& Y = *out[0];
    if (Y.dtype() == DType::Float) {
      float* y = Y.f();
      for (int64_t i = 0; i < Y.numel(); ++i) y[i] = static_cast<float>(y[i] * inv);
    } else {
      double* y = Y.data<double>();
      for (int64_t i = 0; i < Y.numel(); ++i) y[i] *= inv;
    }
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createMean(const Node&, int) { return make<Mean>(); }

}  // namespace topiary::ops
