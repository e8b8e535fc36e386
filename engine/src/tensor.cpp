#include "topiary/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <new>
#include <type_traits>

namespace topiary {

size_t dtypeSize(DType t) {
  switch (t) {
    case DType::Float: return 4;
    case DType::UInt8: return 1;
    case DType::Int8: return 1;
    case DType::UInt16: return 2;
    case DType::Int16: return 2;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
    case DType::Float16: return 2;
    case DType::Double: return 8;
    case DType::UInt32: return 4;
    case DType::UInt64: return 8;
    default: return 0;
  }
}

const char* dtypeName(DType t) {
  switch (t) {
    case DType::Float: return "float32";
    case DType::UInt8: return "uint8";
    case DType::Int8: return "int8";
    case DType::UInt16: return "uint16";
    case DType::Int16: return "int16";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::String: return "string";
    case DType::Bool: return "bool";
    case DType::Float16: return "float16";
    case DType::Double: return "float64";
    case DType::UInt32: return "uint32";
    case DType::UInt64: return "uint64";
    case DType::Undefined:
      return "undefined";
  }
  // ONNX element types the engine has no DType for (values as in onnx.proto).
  switch (static_cast<int>(t)) {
    case 14:
      return "complex64";
    case 15:
      return "complex128";
    case 16:
      return "bfloat16";
    case 17:
      return "float8e4m3fn";
    case 18:
      return "float8e4m3fnuz";
    case 19:
      return "float8e5m2";
    case 20:
      return "float8e5m2fnuz";
    case 21:
      return "uint4";
    case 22:
      return "int4";
    default:
      return "an unknown element type";
  }
}

bool dtypeSupported(DType t) { return dtypeSize(t) != 0; }

std::string shapeToString(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

Result<int64_t> checkedNumel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) return Status::badInput("negative dimension in shape " + shapeToString(s));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return Status::badInput("element count of shape " + shapeToString(s) + " overflows");
    n *= d;
  }
  return n;
}

int64_t numelOf(const Shape& s) {
  // An empty shape may carry dimensions whose product alone would overflow
  // (a strided view of an empty tensor): zero wins before multiplying.
  for (int64_t d : s)
    if (d == 0) return 0;
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Tensor::Tensor(DType dtype, Shape shape) { resize(dtype, shape); setZero(); }

Tensor::Tensor(const Tensor& other) {
  resize(other.dtype_, other.shape_);
  if (other.bytes()) std::memcpy(raw(), other.raw(), other.bytes());
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    resize(other.dtype_, other.shape_);
    if (other.bytes()) std::memcpy(raw(), other.raw(), other.bytes());
  }
  return *this;
}

namespace {
thread_local uint64_t tensorByteLimit = ~uint64_t(0);
}  // namespace

std::string byteSize(uint64_t bytes) {
  char buf[32];
  if (bytes < 1000000)
    std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(bytes) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

TensorTooLarge::TensorTooLarge(uint64_t bytes, uint64_t limit)
    : bytes_(bytes), limit_(limit),
      message_("a tensor of " + byteSize(bytes) + " is over the limit of " + byteSize(limit)) {}

TensorByteLimit::TensorByteLimit(uint64_t limit) : saved_(tensorByteLimit) { tensorByteLimit = limit; }
TensorByteLimit::~TensorByteLimit() { tensorByteLimit = saved_; }
uint64_t TensorByteLimit::current() { return tensorByteLimit; }

void Tensor::resize(DType dtype, std::initializer_list<int64_t> shape) {
  shape_.assign(shape.begin(), shape.end());  // reuses shape_'s storage
  resize(dtype, shape_);
}

void Tensor::resize(DType dtype, const Shape& shape) {
  dtype_ = dtype;
  if (&shape != &shape_) shape_ = shape;
  numel_ = numelOf(shape);
  size_t need = static_cast<size_t>(numel_) * dtypeSize(dtype);
  if (need > tensorByteLimit || (dtypeSize(dtype) && need / dtypeSize(dtype) != static_cast<size_t>(numel_))) {
    // Leave an empty tensor behind rather than one whose shape promises bytes it lacks.
    shape_.assign(1, 0);
    numel_ = 0;
    throw TensorTooLarge(need, tensorByteLimit);
  }
  if (need > capacity_ || !data_) {
    // 64-byte alignment for vector loads; round the size up as aligned_alloc requires.
    // An empty tensor still gets a block, so data pointers are never null (kernels
    // may pass them to memcpy/memset with a zero size, which must not be null).
    size_t alloc = std::max<size_t>(64, (need + 63) / 64 * 64);
    void* p = std::aligned_alloc(64, alloc);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, alloc);
    data_.reset(p);
    capacity_ = alloc;
  }
}

void Tensor::reshapeInPlace(const Shape& shape) {
  shape_ = shape;
  numel_ = numelOf(shape);
}

void Tensor::fill(float v) {
  float* p = f();
  std::fill(p, p + numel_, v);
}

void Tensor::setZero() {
  if (bytes()) std::memset(raw(), 0, bytes());
}

namespace {
template <class Fn>
void visitValues(const Tensor& t, Fn&& fn) {
  int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::Float: for (int64_t i = 0; i < n; ++i) fn(t.data<float>()[i]); break;
    case DType::Double: for (int64_t i = 0; i < n; ++i) fn(t.data<double>()[i]); break;
    case DType::Int64: for (int64_t i = 0; i < n; ++i) fn(t.data<int64_t>()[i]); break;
    case DType::Int32: for (int64_t i = 0; i < n; ++i) fn(t.data<int32_t>()[i]); break;
    case DType::Int16: for (int64_t i = 0; i < n; ++i) fn(t.data<int16_t>()[i]); break;
    case DType::Int8: for (int64_t i = 0; i < n; ++i) fn(t.data<int8_t>()[i]); break;
    case DType::UInt8: for (int64_t i = 0; i < n; ++i) fn(t.data<uint8_t>()[i]); break;
    case DType::UInt16: for (int64_t i = 0; i < n; ++i) fn(t.data<uint16_t>()[i]); break;
    case DType::UInt32: for (int64_t i = 0; i < n; ++i) fn(t.data<uint32_t>()[i]); break;
    case DType::UInt64: for (int64_t i = 0; i < n; ++i) fn(t.data<uint64_t>()[i]); break;
    case DType::Bool: for (int64_t i = 0; i < n; ++i) fn(t.data<uint8_t>()[i] ? 1 : 0); break;
    default: break;
  }
}

// v as a T. A floating value outside T's range is undefined behaviour for
// static_cast, and a model may hold any value: integers saturate (NaN gives
// 0), a double beyond float's range becomes an infinity.
template <class T, class V>
T convertValue(V v) {
  if constexpr (std::is_floating_point_v<V> && std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<V>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<V>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  } else if constexpr (std::is_same_v<T, float> && std::is_same_v<V, double>) {
    if (v > std::numeric_limits<float>::max()) return std::numeric_limits<float>::infinity();
    if (v < std::numeric_limits<float>::lowest()) return -std::numeric_limits<float>::infinity();
  }
  return static_cast<T>(v);
}

template <class T>
void castInto(const Tensor& src, Tensor& dst) {
  T* out = dst.data<T>();
  int64_t i = 0;
  if (dst.dtype() == DType::Bool) {
    visitValues(src, [&](auto v) { out[i++] = static_cast<T>(v != 0); });
  } else {
    visitValues(src, [&](auto v) { out[i++] = convertValue<T>(v); });
  }
}
}  // namespace

std::vector<double> Tensor::toDoubles() const {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(numel_));
  visitValues(*this, [&](auto v) { out.push_back(static_cast<double>(v)); });
  return out;
}

std::vector<int64_t> Tensor::toInt64s() const {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(numel_));
  visitValues(*this, [&](auto v) { out.push_back(convertValue<int64_t>(v)); });
  return out;
}

Tensor Tensor::cast(DType to) const {
  Tensor out(to, shape_);
  switch (to) {
    case DType::Float: castInto<float>(*this, out); break;
    case DType::Double: castInto<double>(*this, out); break;
    case DType::Int64: castInto<int64_t>(*this, out); break;
    case DType::Int32: castInto<int32_t>(*this, out); break;
    case DType::Int16: castInto<int16_t>(*this, out); break;
    case DType::Int8: castInto<int8_t>(*this, out); break;
    case DType::UInt8: castInto<uint8_t>(*this, out); break;
    case DType::UInt16: castInto<uint16_t>(*this, out); break;
    case DType::UInt32: castInto<uint32_t>(*this, out); break;
    case DType::UInt64: castInto<uint64_t>(*this, out); break;
    case DType::Bool: castInto<uint8_t>(*this, out); break;
    default: break;
  }
  return out;
}

}  // namespace topiary
