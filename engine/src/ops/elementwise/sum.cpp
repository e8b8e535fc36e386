// Sum: elementwise sum of any number of broadcast float inputs.
#include <algorithm>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/variadic.h"

namespace topiary::ops {
namespace {

class Sum final : public VariadicKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(fold("Sum", in, out, ctx, true, [](auto a, auto b) { return a + b; }));
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSum(const Node&, int) { return make<Sum>(); }

}  // namespace topiary::ops
