// Shrink: y = x + bias for x < -lambd, x - bias for x > lambd, 0 between
// (lambd default 0.5, bias 0): hard shrinkage with bias 0, soft with bias
// equal to lambd. Every numeric type; integer results are computed in double
// and saturate. dy/dx = 1 outside [-lambd, lambd], 0 inside.
#include <type_traits>

#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/unary.h"

namespace topiary::ops {
namespace {

class Shrink final : public Kernel {
 public:
  Shrink(float lambd, float bias) : lambd_(lambd), bias_(bias) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const float l = lambd_, b = bias_;
    return unaryForwardNumeric("Shrink", in, out, ctx, [l, b](auto x) {
      using T = decltype(x);
      if constexpr (std::is_same_v<T, float>) {
        return x < -l ? x + b : x > l ? x - b : 0.f;
      } else {
        const double v = static_cast<double>(x);
        return saturateCast<T>(v < -l ? v + b : v > l ? v - b : 0.0);
      }
    });
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    const float l = lambd_;
    return unaryBackward(in, out, gradOut, gradIn, ctx,
                         [l](float x, float, float gy) { return x < -l || x > l ? gy : 0.f; });
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override { return unaryFlops(in, 2.0); }

 private:
  float lambd_, bias_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createShrink(const Node& node, int) {
  return make<Shrink>(node.attrFloat("lambd", 0.5f), node.attrFloat("bias", 0.f));
}

}  // namespace topiary::ops
