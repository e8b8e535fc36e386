// Hardmax: 1 at the first maximum along the axis, 0 elsewhere (NaN counts
// as the maximum, as in ArgMax). Before opset 13 the input is coerced to 2-D
// at `axis` (default 1) like Softmax; from 13 the axis (default -1) alone.
#include <cstring>

#include "ops/elementwise/arg_reduce.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class Hardmax final : public Kernel {
 public:
  Hardmax(int64_t axis, bool coerce2d) : axis_(axis), coerce2d_(coerce2d) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Hardmax"));
    const Tensor& X = *in[0];
    SoftmaxGeometry g;
    TOPIARY_RETURN_IF_ERROR(softmaxGeometry(X.shape(), axis_, coerce2d_, g));
    out[0]->resize(X.dtype(), X.shape());
    Tensor& Y = *out[0];
    const bool ok = visitNumeric(X.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* x = X.data<T>();
      T* y = Y.data<T>();
      if (Y.bytes()) std::memset(Y.raw(), 0, Y.bytes());
      if (g.n == 0) return;
      parallelFor(
          g.outer * g.inner, ctx.threads,
          [&](int64_t b, int64_t e) {
            for (int64_t u = b; u < e; ++u) {
              const int64_t base = (u / g.inner) * g.n * g.inner + u % g.inner;
              y[base + argWinner<true>(x + base, g, false) * g.inner] = T(1);
            }
          },
          std::max<int64_t>(1, 4096 / std::max<int64_t>(1, g.n)));
    });
    if (!ok)
      return Status::unsupported(std::string("Hardmax on ") + dtypeName(X.dtype()) + " tensors is not supported");
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : static_cast<double>(numelOf(in[0]));
  }

 private:
  int64_t axis_;
  bool coerce2d_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createHardmax(const Node& node, int opset) {
  const bool coerce2d = opset < 13;
  return make<Hardmax>(node.attrInt("axis", coerce2d ? 1 : -1), coerce2d);
}

}  // namespace topiary::ops
