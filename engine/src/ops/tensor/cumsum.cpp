// CumSum, opsets 11..latest: running sums along the axis given by the second
// input (a scalar), optionally exclusive (each output leaves out its own
// element) and/or reverse (sums run from the end). Integer sums wrap.
#include "ops/elementwise/dispatch.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class CumSum final : public Kernel {
 public:
  CumSum(bool exclusive, bool reverse) : exclusive_(exclusive), reverse_(reverse) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "CumSum"));
    const Tensor& x = *in[0];
    auto av = readInts(*in[1], "CumSum", "axis");
    if (!av) return av.status();
    if (av->size() != 1) return Status::badInput("CumSum axis must be a single value");
    int64_t axis = (*av)[0];
    if (x.rank() == 0) return Status::badInput("CumSum needs an input of rank >= 1");
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank(), "CumSum axis"));
    const int64_t dim = x.dim(static_cast<int>(axis));
    int64_t inner = 1;  // of a nonempty tensor: an empty one's dimensions may multiply past int64
    if (x.numel() > 0)
      for (int d = static_cast<int>(axis) + 1; d < x.rank(); ++d) inner *= x.dim(d);
    const int64_t outer = x.numel() > 0 ? x.numel() / (dim * inner) : 0;
    Tensor& y = *out[0];
    bool known = visitNumeric(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      y.resize(x.dtype(), x.shape());
      const T* src = x.data<T>();
      T* dst = y.data<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t base = o * dim * inner + i;
          T acc = T(0);
          for (int64_t s = 0; s < dim; ++s) {
            const int64_t j = reverse_ ? dim - 1 - s : s;
            const T v = src[base + j * inner];
            if (!exclusive_) acc = wrapAdd<T>(acc, v);
            dst[base + j * inner] = acc;
            if (exclusive_) acc = wrapAdd<T>(acc, v);
          }
        }
    });
    if (!known) return Status::unsupported(std::string("CumSum does not support type ") + dtypeName(x.dtype()));
    return Status::ok();
  }

  // One add per element.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : static_cast<double>(numelOf(in[0]));
  }

 private:
  bool exclusive_, reverse_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createCumSum(const Node& node, int) {
  const int64_t exclusive = node.attrInt("exclusive", 0), reverse = node.attrInt("reverse", 0);
  if ((exclusive != 0 && exclusive != 1) || (reverse != 0 && reverse != 1))
    return Status::badInput("CumSum attributes 'exclusive' and 'reverse' must be 0 or 1");
  return make<CumSum>(exclusive == 1, reverse == 1);
}

}  // namespace topiary::ops
