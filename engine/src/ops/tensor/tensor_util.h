// Helpers shared by the tensor-manipulation kernels. These operators move
// data without looking at it, so they work on element sizes (1, 2, 4 or 8
// bytes) rather than on dtypes: one code path serves float, int64, bool...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ops/common.h"
#include "topiary/tensor.h"

namespace topiary::ops {

// Calls fn(T{}) with an unsigned integer type of the given size, so a copy
// loop is compiled once per element size. Returns false for other sizes.
template <class Fn>
bool withElementType(size_t elemSize, Fn&& fn) {
  switch (elemSize) {
    case 1: fn(uint8_t{}); return true;
    case 2: fn(uint16_t{}); return true;
    case 4: fn(uint32_t{}); return true;
    case 8: fn(uint64_t{}); return true;
    default: return false;
  }
}

// Row-major strides (in elements) of a shape.
std::vector<int64_t> stridesOf(const Shape& s);

// The integer values of a shape/axes/index-like input (int32 or int64, at
// most 1-D). Errors name the operator and the input.
Result<std::vector<int64_t>> readInts(const Tensor& t, const std::string& op, const std::string& what);

// Validates an output shape computed from runtime values before anything is
// allocated: no negative dimension, no overflow, at most 4 GiB.
Status checkOutputShape(const Shape& s, DType dtype, const std::string& op);

// Normalises and checks a list of axes for rank `rank`: negative values
// count from the end, duplicates are errors.
Status normalizeAxes(std::vector<int64_t>& axes, int64_t rank, const std::string& op);

// dst[i] = src[srcOffset + sum_d idx_d(i) * srcStrides[d]] for every element
// i of `shape` (row-major, dst dense). Strides may be zero (broadcast) or
// negative (reversed slices). Covers Transpose, Slice, Expand and Tile.
void stridedGather(const void* src, void* dst, size_t elemSize, const Shape& shape,
                   const std::vector<int64_t>& srcStrides, int64_t srcOffset, int threads);

// The inverse move: dst[dstOffset + sum_d idx_d(i) * dstStrides[d]] = src[i].
// The positions must be distinct (Slice and Transpose gradients).
void stridedScatter(const void* src, void* dst, size_t elemSize, const Shape& shape,
                    const std::vector<int64_t>& dstStrides, int64_t dstOffset, int threads);

// Gradient helpers: make gradIn[i] a float zero tensor of in[i]'s shape when
// requested (inputs such as shapes and indices that have no gradient).
void zeroGradient(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& gradIn, size_t i);

// Gradients are float32; backward passes refuse anything else.
Status expectFloatGradient(const Tensor& g, const char* op);

}  // namespace topiary::ops

namespace topiary::ops {

// Concatenation of `parts` along `axis` into `whole`, which is already sized
// (parts share rank and dtype and agree outside the axis).
void joinAlongAxis(const std::vector<const Tensor*>& parts, Tensor& whole, int64_t axis, int threads);
// The inverse: fills every part (already sized) from `whole`.
void splitAlongAxis(const Tensor& whole, const std::vector<Tensor*>& parts, int64_t axis, int threads);

}  // namespace topiary::ops
