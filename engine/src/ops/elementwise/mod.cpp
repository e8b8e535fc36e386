// Mod: the remainder of a / b with broadcasting, for every numeric type.
// fmod = 0 (the default) gives the remainder with the sign of the divisor,
// as Python's %; fmod = 1 the sign of the dividend, as C's fmod. ONNX asks
// for fmod = 1 on floating types; fmod = 0 is accepted there too (numpy's
// mod). An integer remainder by zero is 0 instead of trapping, as numpy
// gives. Not differentiable.
#include <cmath>
#include <type_traits>

#include "ops/elementwise/binary.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

template <class T>
T remainder(T a, T b, bool fmod) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = std::fmod(a, b);
    if (!fmod && r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>) {
      if (b == -1) return 0;  // MIN % -1 overflows in C++
      T r = static_cast<T>(a % b);
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      return r;
    } else {
      return static_cast<T>(a % b);
    }
  }
}

class Mod final : public BinaryKernel {
 public:
  explicit Mod(bool fmod) : fmod_(fmod) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const bool f = fmod_;
    return forwardSameType("Mod", in, out, ctx, [f](auto a, auto b) { return remainder(a, b, f); });
  }

 private:
  bool fmod_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createMod(const Node& node, int) {
  const int64_t fmod = node.attrInt("fmod", 0);
  if (fmod != 0 && fmod != 1) return Status::badInput("Mod fmod must be 0 or 1, got " + std::to_string(fmod));
  return make<Mod>(fmod == 1);
}

}  // namespace topiary::ops
