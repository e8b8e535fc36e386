// Element-type dispatch for the elementwise family: calls a generic lambda
// with a value of the C++ type that stores a DType, so one templated loop
// serves every numeric type an exporter may use (shape arithmetic in int64,
// masks in uint8, ...).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "topiary/tensor.h"

namespace topiary::ops {

// Numeric types (no bool, no float16). Returns false for other types.
template <class Fn>
bool visitNumeric(DType t, Fn&& fn) {
  switch (t) {
    case DType::Float:
      fn(float{});
      return true;
    case DType::Double:
      fn(double{});
      return true;
    case DType::Int64:
      fn(int64_t{});
      return true;
    case DType::Int32:
      fn(int32_t{});
      return true;
    case DType::Int16:
      fn(int16_t{});
      return true;
    case DType::Int8:
      fn(int8_t{});
      return true;
    case DType::UInt8:
      fn(uint8_t{});
      return true;
    case DType::UInt16:
      fn(uint16_t{});
      return true;
    case DType::UInt32:
      fn(uint32_t{});
      return true;
    case DType::UInt64:
      fn(uint64_t{});
      return true;
    default:
      return false;
  }
}

// Signed integer arithmetic that wraps instead of overflowing (overflow is
// undefined behaviour in C++; ONNX Runtime and numpy wrap).
template <class T>
T wrapAdd(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) + static_cast<std::make_unsigned_t<T>>(b));
  else
    return static_cast<T>(a + b);
}
template <class T>
T wrapSub(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) - static_cast<std::make_unsigned_t<T>>(b));
  else
    return static_cast<T>(a - b);
}
template <class T>
T wrapMul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    // Multiply in the unsigned type at least as wide as int so that the
    // usual promotions cannot reintroduce signed overflow.
    using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return static_cast<T>(a * b);
  }
}
// Integer division truncates like C; x/0 gives 0 (as numpy does) and
// MIN/-1 wraps, instead of trapping.
template <class T>
T safeDiv(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>)
      if (b == -1) return wrapSub<T>(0, a);
    return static_cast<T>(a / b);
  } else {
    return a / b;
  }
}

template <class T>
bool isNan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

// Converts a double to T without undefined behaviour: NaN becomes 0 and
// out-of-range values saturate for integer targets.
template <class T>
T saturateCast(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

}  // namespace topiary::ops
