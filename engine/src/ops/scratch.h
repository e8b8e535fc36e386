// Work buffers of the kernels (im2col columns and the like) are std::vectors,
// not Tensors, so Tensor::resize's per-tensor cap (TensorByteLimit, which an
// executor sets from ExecutorOptions::maxTensorBytes) does not see them.
// sizeScratch applies the same cap, so a hostile window (a 200x200 kernel
// padded by 165 on a 1x1 input: a 2.8 GB im2col matrix for a 70 KB output)
// is refused with its size instead of filling memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "topiary/tensor.h"

namespace topiary::ops {

// TensorTooLarge with a message that says it is a work buffer, not a tensor.
class ScratchTooLarge : public TensorTooLarge {
 public:
  ScratchTooLarge(uint64_t bytes, uint64_t limit)
      : TensorTooLarge(bytes, limit),
        message_("a work buffer of " + byteSize(bytes) + " is over the limit of " + byteSize(limit)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// v.resize(n), or ScratchTooLarge when n elements are over this thread's cap.
template <class T>
void sizeScratch(std::vector<T>& v, size_t n) {
  const uint64_t limit = TensorByteLimit::current();
  if (n > limit / sizeof(T)) throw ScratchTooLarge(static_cast<uint64_t>(n) * sizeof(T), limit);
  v.resize(n);
}

// The element count of an output `shape` of `dtype`, checked against this
// thread's cap before a kernel builds tables sized by the output's axes
// (Pad's and Resize's per-axis index maps): TensorTooLarge when over it,
// BadInput when the count overflows.
inline Result<int64_t> checkOutputSize(const Shape& shape, DType dtype, const std::string& what) {
  auto numel = checkedNumel(shape);
  if (!numel) return numel.status().withContext(what + " " + shapeToString(shape));
  const uint64_t es = std::max<uint64_t>(1, dtypeSize(dtype)), limit = TensorByteLimit::current(),
                 n = static_cast<uint64_t>(numel.value());
  if (n > limit / es) throw TensorTooLarge(n > ~uint64_t(0) / es ? ~uint64_t(0) : n * es, limit);
  return numel;
}

}  // namespace topiary::ops
