// Tensor: a dense, row-major (NCHW for images) n-dimensional array that owns
// its storage. Copies are deep. resize() keeps the allocation when it is big
// enough, so an executor can reuse buffers across runs without allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "topiary/status.h"

namespace topiary {

// Values match onnx::TensorProto::DataType.
enum class DType : int {
  Undefined = 0,
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
};

size_t dtypeSize(DType t);           // 0 for String/Undefined
const char* dtypeName(DType t);      // "float32", "int64", ...
bool dtypeSupported(DType t);        // storable in a Tensor (not String/Undefined)

using Shape = std::vector<int64_t>;

// Thrown by Tensor::resize when one tensor would need more bytes than the
// calling thread's limit (see TensorByteLimit); a std::bad_alloc, so code that
// handles running out of memory handles this too.
class TensorTooLarge : public std::bad_alloc {
 public:
  TensorTooLarge(uint64_t bytes, uint64_t limit);
  const char* what() const noexcept override { return message_.c_str(); }
  uint64_t bytes() const { return bytes_; }
  uint64_t limit() const { return limit_; }

 private:
  uint64_t bytes_, limit_;
  std::string message_;
};

// Caps the size of any one tensor allocated on this thread while the scope
// lives (an executor applies ExecutorOptions::maxTensorBytes this way), so a
// hostile model whose operators compute huge shapes is refused with the
// number it would need instead of exhausting memory. Default: no limit.
class TensorByteLimit {
 public:
  explicit TensorByteLimit(uint64_t limit);
  ~TensorByteLimit();
  TensorByteLimit(const TensorByteLimit&) = delete;
  TensorByteLimit& operator=(const TensorByteLimit&) = delete;
  static uint64_t current();

 private:
  uint64_t saved_;
};

std::string shapeToString(const Shape& s);  // "[1,3,28,28]"
std::string byteSize(uint64_t bytes);       // "32.0 KB", "16.8 MB" (decimal units), as limit errors print sizes
// Element count of a shape; fails on negative dimensions or overflow.
Result<int64_t> checkedNumel(const Shape& s);
int64_t numelOf(const Shape& s);  // unchecked product (shape already validated)

template <class T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::Float; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::Double; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct DTypeOf<int16_t> { static constexpr DType value = DType::Int16; };
template <> struct DTypeOf<int8_t> { static constexpr DType value = DType::Int8; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct DTypeOf<uint16_t> { static constexpr DType value = DType::UInt16; };
template <> struct DTypeOf<uint32_t> { static constexpr DType value = DType::UInt32; };
template <> struct DTypeOf<uint64_t> { static constexpr DType value = DType::UInt64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor. The shape must be valid (non-negative dims).
  Tensor(DType dtype, Shape shape);
  explicit Tensor(Shape shape) : Tensor(DType::Float, std::move(shape)) {}

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept = default;
  Tensor& operator=(Tensor&& other) noexcept = default;

  template <class T>
  static Tensor fromVector(Shape shape, const std::vector<T>& values) {
    Tensor t(DTypeOf<T>::value, std::move(shape));
    size_t n = std::min(t.bytes(), values.size() * sizeof(T));
    if (n) std::memcpy(t.raw(), values.data(), n);
    return t;
  }
  static Tensor scalar(float v) { return fromVector<float>({}, {v}); }

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i < 0 ? i + rank() : i)]; }
  int64_t numel() const { return numel_; }
  size_t bytes() const { return static_cast<size_t>(numel_) * dtypeSize(dtype_); }
  bool empty() const { return numel_ == 0; }

  // Changes shape and type; keeps the allocation when it is large enough.
  // Contents are unspecified afterwards (zero when newly allocated).
  void resize(DType dtype, const Shape& shape);
  void resize(const Shape& shape) { resize(dtype_, shape); }
  // The same for a braced shape ({n, c, h, w}), without building a Shape
  // first: a warm run then allocates nothing.
  void resize(DType dtype, std::initializer_list<int64_t> shape);
  // Changes the shape without touching the data; element count must match.
  void reshapeInPlace(const Shape& shape);
  void fill(float v);  // float tensors only
  void setZero();

  void* raw() { return data_.get(); }
  const void* raw() const { return data_.get(); }
  template <class T>
  T* data() { return static_cast<T*>(raw()); }
  template <class T>
  const T* data() const { return static_cast<const T*>(raw()); }
  float* f() { return data<float>(); }
  const float* f() const { return data<float>(); }
  float& at(int64_t i) { return f()[i]; }
  float at(int64_t i) const { return f()[i]; }

  // Values as float64 / int64 whatever the stored type (for small tensors:
  // shapes, indices, scalars).
  std::vector<double> toDoubles() const;
  std::vector<int64_t> toInt64s() const;
  // Converts to another dtype (numeric conversion like a C cast).
  Tensor cast(DType to) const;

  size_t capacityBytes() const { return capacity_; }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  DType dtype_ = DType::Float;
  Shape shape_;
  int64_t numel_ = 0;
  size_t capacity_ = 0;
  std::unique_ptr<void, Free> data_;
};

// A tensor with a name, as an ONNX initializer or test datum.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

}  // namespace topiary
