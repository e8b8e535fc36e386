// Not: elementwise logical negation of a bool tensor.
#include "ops/common.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Not final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Not"));
    if (in[0]->dtype() != DType::Bool)
      return Status::badInput(std::string("Not needs a bool input, got ") + dtypeName(in[0]->dtype()));
    out[0]->resize(DType::Bool, in[0]->shape());
    const uint8_t* x = in[0]->data<uint8_t>();
    uint8_t* y = out[0]->data<uint8_t>();
    parallelFor(
        in[0]->numel(), ctx.threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) y[i] = x[i] ? 0 : 1;
        },
        1 << 15);
    return Status::ok();
  }

  // One per element, as And, Or and Xor count.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : static_cast<double>(numelOf(in[0]));
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createNot(const Node&, int) { return make<Not>(); }

}  // namespace topiary::ops
