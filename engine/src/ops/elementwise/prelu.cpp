// PRelu: y = x for x >= 0, slope*x otherwise, the slope broadcast to x
// (per channel: [C,1,1]). Gradient: dy or slope*dy for x; x*dy where x < 0
// for the slope, summed over the dims it is broadcast along.
#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class PRelu final : public BinaryKernel {
 public:
  explicit PRelu(bool legacy) : legacy_(legacy) {}

  Status forward(const std::vector<const Tensor*>& inputs, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    std::vector<const Tensor*> in = legacySlope(inputs);
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
  Status backward(const std::vector<const Tensor*>& inputs, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    std::vector<const Tensor*> in = legacySlope(inputs);
    TOPIARY_RETURN_IF_ERROR(plan("PRelu", in));
    TOPIARY_RETURN_IF_ERROR(operandGrad(0, in, *gradOut[0], gradIn[0], ctx,
                                        [](float g, float x, float s) { return x >= 0.f ? g : s * g; }));
    if (gradIn.size() > 1)
      TOPIARY_RETURN_IF_ERROR(operandGrad(1, in, *gradOut[0], gradIn[1], ctx,
                                          [](float g, float x, float) { return x >= 0.f ? 0.f : x * g; }));
    if (gradIn.size() > 1 && gradIn[1] && in[1] != inputs[1]) gradIn[1]->reshapeInPlace(inputs[1]->shape());
    return Status::ok();
  }

 private:
  // Before opset 7 a 1-D slope of length C applies per channel (axis 1), not
  // along the last axis as numpy broadcasting would read it.
  std::vector<const Tensor*> legacySlope(const std::vector<const Tensor*>& in) {
    std::vector<const Tensor*> out = in;
    if (!legacy_ || in.size() < 2 || !in[0] || !in[1]) return out;
    const Tensor& x = *in[0];
    const Tensor& s = *in[1];
    if (s.rank() != 1 || x.rank() < 3 || s.dim(0) != x.dim(1) || s.dim(0) == 1) return out;
    Shape shape(static_cast<size_t>(x.rank() - 1), 1);
    shape[0] = s.dim(0);
    slopeView_ = s;
    slopeView_.reshapeInPlace(shape);
    out[1] = &slopeView_;
    return out;
  }
  bool legacy_;
  Tensor slopeView_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createPRelu(const Node&, int opset) { return make<PRelu>(opset < 7); }

}  // namespace topiary::ops
