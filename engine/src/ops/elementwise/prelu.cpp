// PRelu: y = x for x >= 0, slope*x otherwise, the slope broadcast to x
// (per channel: [C,1,1]). Gradient: dy or slope*dy for x; x*dy where x < 0
// for the slope, summed over the dims it is broadcast along.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class PRelu final : public BinaryKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(plan("PRelu", in));
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[0], "PRelu"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[1], "PRelu", "slope"));
    if (outShape_ != in[0]->shape())
      return Status::badInput("PRelu slope of shape " + shapeToString(in[1]->shape()) + " does not broadcast to " +
                              shapeToString(in[0]->shape()));
    out[0]->resize(DType::Float, outShape_);
    runBinary(plan_, in[0]->f(), in[1]->f(), out[0]->f(), ctx.threads,
              [](float x, float s) { return x >= 0.f ? x : s * x; });
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(operandGrad(0, in, *gradOut[0], gradIn[0], ctx,
                                        [](float g, float x, float s) { return x >= 0.f ? g : s * g; }));
    if (gradIn.size() > 1)
      TOPIARY_RETURN_IF_ERROR(operandGrad(1, in, *gradOut[0], gradIn[1], ctx,
                                          [](float g, float x, float) { return x >= 0.f ? 0.f : x * g; }));
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createPRelu(const Node&, int) { return make<PRelu>(); }

}  // namespace topiary::ops
