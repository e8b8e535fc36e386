// Max: elementwise maximum of any number of broadcast inputs (a NaN wins, as in numpy).
#include <algorithm>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/variadic.h"

namespace topiary::ops {
namespace {

class Max final : public VariadicKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(fold("Max", in, out, ctx, false, [](auto a, auto b) { return isNan(a) || a > b ? a : b; }));
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createMax(const Node&, int) { return make<Max>(); }

}  // namespace topiary::ops
