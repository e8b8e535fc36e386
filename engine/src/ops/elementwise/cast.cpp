// Cast: converts between float32, float64, float16, bool and every integer
// type. Conversions follow C++ casts except where those are undefined:
// float to integer saturates (NaN gives 0), integer to narrower integer
// wraps (two's complement), anything to bool is `!= 0`. float16 is
// converted by hand (round to nearest even). Strings and bfloat16 are
// Unsupported. Gradient (float32 to float32 only): dy.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "ops/common.h"
#include "ops/elementwise/cast_util.h"
#include "ops/elementwise/dispatch.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

struct Bool8 {
  uint8_t v;
};  // storage of a bool element
struct Half {
  uint16_t bits;
};  // storage of a float16 element

float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // inf / NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: value = man * 2^-24
    float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504: inf
  if (absx < 0x38800000u) {
    // Subnormal half (or zero): scale into the integer mantissa and round to even.
    float a;
    std::memcpy(&a, &absx, 4);
    float m = std::nearbyint(a * 16777216.f);  // a / 2^-24, default rounding mode is to-nearest-even
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(m));
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits to even.
  uint32_t h = ((absx >> 13) - (112u << 10));
  const uint32_t rest = absx & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

template <class T>
constexpr bool kIsFloat = std::is_floating_point_v<T>;

template <class D, class S>
D castOne(S s) {
  if constexpr (std::is_same_v<S, Half>) {
    return castOne<D>(halfToFloat(s.bits));
  } else if constexpr (std::is_same_v<S, Bool8>) {
    return castOne<D>(static_cast<uint8_t>(s.v != 0));
  } else if constexpr (std::is_same_v<D, Bool8>) {
    return Bool8{static_cast<uint8_t>(s != 0)};
  } else if constexpr (std::is_same_v<D, Half>) {
    return Half{floatToHalf(static_cast<float>(s))};
  } else if constexpr (kIsFloat<S> && !kIsFloat<D>) {
    return saturateCast<D>(static_cast<double>(s));
  } else {
    return static_cast<D>(s);  // int->int wraps (two's complement), float<->float, int->float
  }
}

template <class Fn>
bool visitCastable(DType t, Fn&& fn) {
  if (t == DType::Bool) {
    fn(Bool8{});
    return true;
  }
  if (t == DType::Float16) {
    fn(Half{});
    return true;
  }
  return visitNumeric(t, fn);
}

}  // namespace

Status castTensor(const Tensor& X, Tensor& Y, DType to, int threads) {
  Y.resize(to, X.shape());
  if (X.dtype() == to) {
    if (X.bytes()) std::memcpy(Y.raw(), X.raw(), X.bytes());
    return Status::ok();
  }
  bool okTo = false;
  bool okFrom = visitCastable(X.dtype(), [&](auto s) {
    using S = decltype(s);
    okTo = visitCastable(to, [&](auto d) {
      using D = decltype(d);
      const S* x = static_cast<const S*>(X.raw());
      D* y = static_cast<D*>(Y.raw());
      parallelFor(
          X.numel(), threads,
          [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) y[i] = castOne<D>(x[i]);
          },
          1 << 15);
    });
  });
  if (!okFrom || !okTo)
    return Status::unsupported(std::string("Cast from ") + dtypeName(X.dtype()) + " to " + dtypeName(to) +
                               " is not supported");
  return Status::ok();
}

namespace {

class Cast final : public Kernel {
 public:
  explicit Cast(DType to) : to_(to) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Cast"));
    return castTensor(*in[0], *out[0], to_, ctx.threads);
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    if (in[0]->dtype() != DType::Float || to_ != DType::Float)
      return Status::unsupported("Cast passes gradients only from float32 to float32");
    gradIn[0]->resize(DType::Float, in[0]->shape());
    if (gradIn[0]->bytes()) std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
    return Status::ok();
  }
  double flops(const std::vector<Shape>&, const std::vector<Shape>&) const override { return 0.0; }

 private:
  DType to_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createCast(const Node& node, int) {
  if (!node.hasAttr("to")) return Status::badInput("Cast needs the 'to' attribute");
  const int64_t to = node.attrInt("to", 0);
  const DType t = static_cast<DType>(to);
  const bool known = (to >= 1 && to <= 13 && to != 8);
  if (!known) return Status::unsupported("Cast to ONNX type " + std::to_string(to) + " is not supported");
  return make<Cast>(t);
}

}  // namespace topiary::ops
