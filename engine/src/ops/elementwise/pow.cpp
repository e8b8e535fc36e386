// Pow: y = a ^ b with broadcasting. The output has a's type; b may be any
// numeric type (opset 12+). float^float uses powf; every other combination
// is computed in double and converted back (integer results saturate).
// Gradient (float32): b*a^(b-1)*dy for a, a^b*ln(a)*dy for b (0 where a <= 0).
// FLOPs: one transcendental (see unary.h) per element.
#include <cmath>

#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Pow final : public BinaryKernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(plan("Pow", in));
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    out[0]->resize(A.dtype(), outShape_);
    Tensor& Y = *out[0];
    if (A.dtype() == DType::Float && B.dtype() == DType::Float) {
      runBinary(plan_, A.f(), B.f(), Y.f(), ctx.threads, [](float a, float b) { return std::pow(a, b); });
      return Status::ok();
    }
    bool okB = false;
    bool okA = visitNumeric(A.dtype(), [&](auto ta) {
      using TA = decltype(ta);
      okB = visitNumeric(B.dtype(), [&](auto tb) {
        using TB = decltype(tb);
        runBinary(plan_, A.data<TA>(), B.data<TB>(), Y.data<TA>(), ctx.threads, [](TA a, TB b) {
          return saturateCast<TA>(std::pow(static_cast<double>(a), static_cast<double>(b)));
        });
      });
    });
    if (!okA || !okB)
      return Status::unsupported(std::string("Pow of ") + dtypeName(A.dtype()) + " by " + dtypeName(B.dtype()) +
                                 " is not supported");
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(operandGrad(0, in, *gradOut[0], gradIn[0], ctx, [](float g, float a, float b) {
      return b == 0.f ? 0.f : g * b * std::pow(a, b - 1.f);
    }));
    if (gradIn.size() > 1)
      TOPIARY_RETURN_IF_ERROR(operandGrad(1, in, *gradOut[0], gradIn[1], ctx, [](float g, float a, float b) {
        return a > 0.f ? g * std::pow(a, b) * std::log(a) : 0.f;
      }));
    return Status::ok();
  }
  double flops(const std::vector<Shape>&, const std::vector<Shape>& out) const override {
    return out.empty() ? 0.0 : kTranscendentalFlops * static_cast<double>(numelOf(out[0]));
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createPow(const Node& node, int opset) {
  TOPIARY_RETURN_IF_ERROR(checkLegacyBroadcast(node, opset));
  return make<Pow>();
}

}  // namespace topiary::ops
