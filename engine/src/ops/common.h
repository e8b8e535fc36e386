// Small helpers shared by kernels (internal to the engine).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/shared_work.h"
#include "topiary/graph.h"
#include "topiary/kernel.h"

namespace topiary::ops {

// Runs fn(begin, end) over [0, n) split into contiguous chunks on up to
// `threads` threads (kernels/shared_work.h: the calling thread and the
// helpers claim chunks as they come, so a helper the OS does not schedule
// delays nothing). Up to 4 chunks per thread, each of at least `minChunk`
// unless n is smaller. Runs inline when one thread suffices or when called
// from inside another parallelFor (a piece of shared work).
template <class Fn>
void parallelFor(int64_t n, int threads, Fn&& fn, int64_t minChunk = 1) {
  if (n <= 0) return;
  const int64_t per = std::max<int64_t>(1, minChunk);
  const int64_t maxThreads = std::max<int64_t>(1, std::min<int64_t>(threads, n / per));
  if (maxThreads <= 1 || kernels::inSharedWork()) {
    fn(int64_t(0), n);
    return;
  }
  const int64_t pieces = std::min<int64_t>(n / per, 4 * maxThreads);
  kernels::runPieces(pieces, static_cast<int>(maxThreads), [&](int64_t i, int) {
    fn(n / pieces * i + std::min(i, n % pieces), n / pieces * (i + 1) + std::min(i + 1, n % pieces));
  });
}

// Normalises a possibly negative axis for a tensor of rank r; error when out of range.
inline Status normalizeAxis(int64_t& axis, int64_t rank, const std::string& what = "axis") {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return Status::badInput(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  if (axis < 0) axis += rank;
  return Status::ok();
}

// ONNX multidirectional broadcasting of two shapes.
inline Result<Shape> broadcastShapes(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return Status::badInput("shapes " + shapeToString(a) + " and " + shapeToString(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Convenience for factories: wraps a kernel in a Result.
template <class K, class... Args>
Result<std::unique_ptr<Kernel>> make(Args&&... args) {
  return std::unique_ptr<Kernel>(new K(std::forward<Args>(args)...));
}

inline Status expectInputs(const std::vector<const Tensor*>& in, size_t required, const char* op) {
  if (in.size() < required) return Status::badInput(std::string(op) + " needs " + std::to_string(required) + " inputs");
  for (size_t i = 0; i < required; ++i)
    if (!in[i]) return Status::badInput(std::string(op) + " input " + std::to_string(i) + " is missing");
  return Status::ok();
}

inline Status expectFloat(const Tensor& t, const char* op, const char* what = "input") {
  if (t.dtype() != DType::Float)
    return Status::unsupported(std::string(op) + " " + what + " has type " + dtypeName(t.dtype()) +
                               "; only float32 is supported");
  return Status::ok();
}

}  // namespace topiary::ops
