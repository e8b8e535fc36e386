#include "ops/tensor/tensor_util.h"

#include <cstring>
#include <limits>

namespace topiary::ops {

std::vector<int64_t> stridesOf(const Shape& s) {
  // An empty tensor may have other dimensions whose product overflows; its
  // strides are never used to address data, so they saturate instead.
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;)
    if (__builtin_mul_overflow(st[i], s[i], &st[i - 1])) st[i - 1] = std::numeric_limits<int64_t>::max();
  return st;
}

Result<std::vector<int64_t>> readInts(const Tensor& t, const std::string& op, const std::string& what) {
  if (t.dtype() != DType::Int64 && t.dtype() != DType::Int32)
    return Status::badInput(op + " " + what + " must be int64 (or int32), got " + dtypeName(t.dtype()));
  if (t.rank() > 1)
    return Status::badInput(op + " " + what + " must be 1-D, got shape " + shapeToString(t.shape()));
  return t.toInt64s();
}

Status checkOutputShape(const Shape& s, DType dtype, const std::string& op) {
  auto n = checkedNumel(s);
  if (!n) return n.status().withContext(op + " output");
  const int64_t limit = int64_t(4) << 30;
  if (n.value() > limit / std::max<int64_t>(1, static_cast<int64_t>(dtypeSize(dtype))))
    return Status::badInput(op + " output of shape " + shapeToString(s) + " would need more than 4 GiB");
  return Status::ok();
}

Status normalizeAxes(std::vector<int64_t>& axes, int64_t rank, const std::string& op) {
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(rank, 0)), false);
  for (auto& a : axes) {
    if (a < -rank || a >= rank)
      return Status::badInput(op + " axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    if (a < 0) a += rank;
    if (seen[static_cast<size_t>(a)]) return Status::badInput(op + " axis " + std::to_string(a) + " is repeated");
    seen[static_cast<size_t>(a)] = true;
  }
  return Status::ok();
}

namespace {

// Drops unit dimensions and merges neighbours that are contiguous in the
// strided tensor (the dense side is always contiguous), so the inner loop
// runs as long as possible.
void coalesce(Shape& shape, std::vector<int64_t>& strides) {
  Shape s;
  std::vector<int64_t> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!s.empty() && st.back() == strides[d] * shape[d]) {
      s.back() *= shape[d];
      st.back() = strides[d];
    } else {
      s.push_back(shape[d]);
      st.push_back(strides[d]);
    }
  }
  if (s.empty()) {
    s.push_back(1);
    st.push_back(1);
  }
  shape = std::move(s);
  strides = std::move(st);
}

template <bool Scatter>
void stridedMove(const void* src, void* dst, size_t elemSize, Shape shape, std::vector<int64_t> strides,
                 int64_t offset, int threads) {
  if (numelOf(shape) == 0) return;
  coalesce(shape, strides);
  const size_t r = shape.size();
  const int64_t inner = shape[r - 1], innerStride = strides[r - 1];
  const int64_t rows = numelOf(shape) / inner;
  withElementType(elemSize, [&](auto tag) {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(src);
    T* d = static_cast<T*>(dst);
    parallelFor(rows, threads, [&](int64_t begin, int64_t end) {
      // Odometer over the outer dimensions, started at row `begin`.
      std::vector<int64_t> idx(r, 0);
      int64_t off = offset, rem = begin;
      for (size_t k = r - 1; k-- > 0;) {
        idx[k] = rem % shape[k];
        rem /= shape[k];
        off += idx[k] * strides[k];
      }
      for (int64_t row = begin; row < end; ++row) {
        const int64_t dense = row * inner;
        if (Scatter) {
          if (innerStride == 1) std::memcpy(d + off, s + dense, static_cast<size_t>(inner) * sizeof(T));
          else for (int64_t i = 0; i < inner; ++i) d[off + i * innerStride] = s[dense + i];
        } else {
          if (innerStride == 1) std::memcpy(d + dense, s + off, static_cast<size_t>(inner) * sizeof(T));
          else for (int64_t i = 0; i < inner; ++i) d[dense + i] = s[off + i * innerStride];
        }
        for (size_t k = r - 1; k-- > 0;) {
          off += strides[k];
          if (++idx[k] < shape[k]) break;
          off -= strides[k] * shape[k];
          idx[k] = 0;
        }
      }
    }, std::max<int64_t>(1, (int64_t(1) << 15) / inner));
  });
}

}  // namespace

void stridedGather(const void* src, void* dst, size_t elemSize, const Shape& shape,
                   const std::vector<int64_t>& srcStrides, int64_t srcOffset, int threads) {
  stridedMove<false>(src, dst, elemSize, shape, srcStrides, srcOffset, threads);
}

void stridedScatter(const void* src, void* dst, size_t elemSize, const Shape& shape,
                    const std::vector<int64_t>& dstStrides, int64_t dstOffset, int threads) {
  stridedMove<true>(src, dst, elemSize, shape, dstStrides, dstOffset, threads);
}

void zeroGradient(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& gradIn, size_t i) {
  if (i >= gradIn.size() || !gradIn[i]) return;
  gradIn[i]->resize(DType::Float, i < in.size() && in[i] ? in[i]->shape() : Shape{0});
  gradIn[i]->setZero();
}

Status expectFloatGradient(const Tensor& g, const char* op) {
  if (g.dtype() != DType::Float)
    return Status::unsupported(std::string(op) + " backward needs a float32 gradient, got " + dtypeName(g.dtype()));
  return Status::ok();
}

}  // namespace topiary::ops

namespace topiary::ops {
namespace {

// For every outer index, the parts' rows of (dim_axis * inner) elements lie
// one after the other in the whole tensor.
template <bool Join>
void axisMove(const std::vector<const Tensor*>& parts, const std::vector<Tensor*>& mutableParts, const Tensor& whole,
              Tensor* mutableWhole, int64_t axis, int threads) {
  const size_t np = Join ? parts.size() : mutableParts.size();
  auto part = [&](size_t i) -> const Tensor& { return Join ? *parts[i] : *mutableParts[i]; };
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= whole.shape()[static_cast<size_t>(d)];
  for (int d = static_cast<int>(axis) + 1; d < whole.rank(); ++d) inner *= whole.shape()[static_cast<size_t>(d)];
  const size_t es = dtypeSize(whole.dtype());
  const size_t rowBytes = static_cast<size_t>(whole.shape()[static_cast<size_t>(axis)] * inner) * es;
  std::vector<size_t> partBytes(np);
  for (size_t i = 0; i < np; ++i) partBytes[i] = static_cast<size_t>(part(i).shape()[static_cast<size_t>(axis)] * inner) * es;
  parallelFor(outer, threads, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      size_t at = static_cast<size_t>(o) * rowBytes;
      for (size_t i = 0; i < np; ++i) {
        size_t n = partBytes[i];
        size_t po = static_cast<size_t>(o) * n;
        if (n == 0) continue;
        if (Join) std::memcpy(static_cast<char*>(mutableWhole->raw()) + at, static_cast<const char*>(parts[i]->raw()) + po, n);
        else std::memcpy(static_cast<char*>(mutableParts[i]->raw()) + po, static_cast<const char*>(whole.raw()) + at, n);
        at += n;
      }
    }
  }, std::max<int64_t>(1, static_cast<int64_t>((size_t(1) << 16) / std::max<size_t>(rowBytes, 1))));
}

}  // namespace

void joinAlongAxis(const std::vector<const Tensor*>& parts, Tensor& whole, int64_t axis, int threads) {
  axisMove<true>(parts, {}, whole, &whole, axis, threads);
}

void splitAlongAxis(const Tensor& whole, const std::vector<Tensor*>& parts, int64_t axis, int threads) {
  axisMove<false>({}, parts, whole, nullptr, axis, threads);
}

}  // namespace topiary::ops
