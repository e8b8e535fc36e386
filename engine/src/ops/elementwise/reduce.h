// The Reduce family (ReduceSum, ReduceMean, ReduceMax, ReduceL2, ...): one
// kernel parameterised by the reduction, so that each operator's file
// supplies only its formula.
//
// A reduction is a small policy, templated on the element type T:
//   using Acc = ...;                   the accumulator (double for floats)
//   Acc init() const;                  the value of an empty reduction
//   Acc step(Acc a, T x) const;        folds one element in
//   Acc combine(Acc a, Acc b) const;   merges two partial results, in order
//   T finish(Acc a, int64_t n) const;  the output for n folded elements
// plus two constants: kFlopsPerElement (the cost of one step) and
// kLinear (the output is gradScale(n) times the sum of the inputs, which
// gives the kernel a backward pass: ReduceSum, ReduceMean).
//
// Axes are an attribute before `axesInputSince` (13 for ReduceSum, 18 for
// the others) and an optional int64 input from then on; no axes means all of
// them, unless noop_with_empty_axes. Reduced dims stay as 1 when keepdims.
// An empty reduction gives init() (0 for sums, -inf for ReduceMax...).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/common.h"
#include "ops/elementwise/broadcast.h"
#include "ops/elementwise/dispatch.h"

namespace topiary::ops {

// How a source tensor is walked to reduce it to a destination shape that
// broadcasts to it: merged kept dims (the destination reads them) and merged
// reduced dims, each in row-major order with their source strides.
struct ReducePlan {
  int64_t srcNumel = 0, dstNumel = 0;
  int64_t count = 0;  // source elements per destination element
  int nk = 0, nr = 0;
  int64_t keptDims[kMaxBroadcastRank] = {}, keptStr[kMaxBroadcastRank] = {};
  int64_t redDims[kMaxBroadcastRank] = {}, redStr[kMaxBroadcastRank] = {};
  bool innerReduced = false;  // the innermost merged dim is a reduced one
};

// Internal when dstShape does not broadcast to srcShape.
Status planReduction(const Shape& srcShape, const Shape& dstShape, ReducePlan& plan);

// Offset of the idx-th element of a row-major walk over `n` dims.
inline int64_t reduceOffsetOf(int64_t idx, const int64_t* dims, const int64_t* strides, int n) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    off += (idx % dims[d]) * strides[d];
    idx /= dims[d];
  }
  return off;
}

// dst = the reduction of src over the plan's reduced dims. The summation
// order does not depend on the thread count.
template <class T, class Op>
void runReduction(const ReducePlan& p, const T* src, T* dst, int threads, const Op& op) {
  using Acc = typename Op::Acc;
  if (p.dstNumel == 0) return;
  if (p.srcNumel == 0) {
    std::fill(dst, dst + p.dstNumel, op.finish(op.init(), 0));
    return;
  }
  if (p.dstNumel == p.srcNumel) {
    parallelFor(
        p.srcNumel, threads,
        [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) dst[i] = op.finish(op.step(op.init(), src[i]), 1);
        },
        1 << 15);
    return;
  }
  if (p.nk == 0) {
    // Everything: fixed blocks reduced in parallel, then combined in order.
    constexpr int kBlocks = 64;
    Acc partial[kBlocks];
    const int64_t n = p.srcNumel;
    parallelFor(kBlocks, threads, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        Acc a = op.init();
        for (int64_t i = n * blk / kBlocks, end = n * (blk + 1) / kBlocks; i < end; ++i) a = op.step(a, src[i]);
        partial[blk] = a;
      }
    });
    Acc total = partial[0];
    for (int blk = 1; blk < kBlocks; ++blk) total = op.combine(total, partial[blk]);
    dst[0] = op.finish(total, n);
    return;
  }
  const int nk = p.nk, nr = p.nr;
  if (p.innerReduced) {
    // One unit per dst element; the innermost reduced run is contiguous.
    const int64_t L = p.redDims[nr - 1];
    const int64_t R = p.count / L;
    parallelFor(
        p.dstNumel, threads,
        [&](int64_t b, int64_t e) {
          for (int64_t j = b; j < e; ++j) {
            const T* base = src + reduceOffsetOf(j, p.keptDims, p.keptStr, nk);
            Acc a = op.init();
            for (int64_t r = 0; r < R; ++r) {
              const T* run = base + reduceOffsetOf(r, p.redDims, p.redStr, nr - 1);
              for (int64_t c = 0; c < L; ++c) a = op.step(a, run[c]);
            }
            dst[j] = op.finish(a, p.count);
          }
        },
        std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, p.count)));
  } else {
    // The innermost dim is kept: accumulate blocks of dst columns over all
    // reduced positions, reading the source rows contiguously.
    constexpr int64_t kCols = 64;
    const int64_t W = p.keptDims[nk - 1];
    const int64_t rows = p.dstNumel / W;
    const int64_t nblk = (W + kCols - 1) / kCols;
    const int64_t R = p.count;
    parallelFor(
        rows * nblk, threads,
        [&](int64_t b, int64_t e) {
          Acc acc[kCols];
          for (int64_t u = b; u < e; ++u) {
            const int64_t row = u / nblk, c0 = (u % nblk) * kCols, c1 = std::min(W, c0 + kCols);
            const T* base = src + reduceOffsetOf(row, p.keptDims, p.keptStr, nk - 1) + c0;
            std::fill(acc, acc + (c1 - c0), op.init());
            for (int64_t r = 0; r < R; ++r) {
              const T* run = base + reduceOffsetOf(r, p.redDims, p.redStr, nr);
              for (int64_t c = 0; c < c1 - c0; ++c) acc[c] = op.step(acc[c], run[c]);
            }
            T* o = dst + row * W + c0;
            for (int64_t c = 0; c < c1 - c0; ++c) o[c] = op.finish(acc[c], R);
          }
        },
        std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, R * kCols)));
  }
}

// ---- Building blocks for the policies -------------------------------------

// Sums accumulate in double for floating types and wrap in T for integers.
template <class T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

// The output of a floating-point result for any T (integers saturate).
template <class T>
T fromDouble(double v) {
  return saturateCast<T>(v);
}

// Sum of f(x) over the reduced elements, times `scale` (1 unless set).
template <class T>
struct SumReduction {
  using Acc = SumAcc<T>;
  static constexpr double kFlopsPerElement = 1.0;
  static constexpr bool kLinear = true;
  double scale = 1.0;
  Acc init() const { return Acc(0); }
  Acc step(Acc a, T x) const { return wrapAdd<Acc>(a, static_cast<Acc>(x)); }
  Acc combine(Acc a, Acc b) const { return wrapAdd<Acc>(a, b); }
  T finish(Acc a, int64_t) const {
    if constexpr (std::is_floating_point_v<T>)
      return static_cast<T>(a * scale);
    else
      return a;
  }
  static double gradScale(int64_t) { return 1.0; }
};

// Maximum (Max = true) or minimum; NaN propagates, as numpy's does.
template <class T, bool Max>
struct ExtremumReduction {
  using Acc = T;
  static constexpr double kFlopsPerElement = 1.0;
  static constexpr bool kLinear = false;
  Acc init() const {
    if constexpr (std::is_floating_point_v<T>)
      return Max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else
      return Max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  Acc step(Acc a, T x) const {
    if (isNan(a)) return a;
    if (isNan(x)) return x;
    return Max ? std::max(a, x) : std::min(a, x);
  }
  Acc combine(Acc a, Acc b) const { return step(a, b); }
  T finish(Acc a, int64_t) const { return a; }
  static double gradScale(int64_t) { return 0.0; }
};

// ---- Axes ------------------------------------------------------------------

// Resolves the reduced axes of one run: the shape with reduced dims set to 1
// (keepShape), the output shape, and whether the run is a no-op.
class ReduceAxes {
 public:
  ReduceAxes(const char* op, std::vector<int64_t> attrAxes, bool keepdims, bool noopEmpty, bool axesInput)
      : op_(op), attrAxes_(std::move(attrAxes)), keepdims_(keepdims), noopEmpty_(noopEmpty), axesInput_(axesInput) {}

  // BadInput for axes out of range, duplicated, or given as a bad tensor.
  Status resolve(const std::vector<const Tensor*>& in);

  const Shape& keepShape() const { return keepShape_; }
  const Shape& outShape() const { return outShape_; }
  bool noop() const { return noop_; }

 private:
  const char* op_;
  std::vector<int64_t> attrAxes_;
  bool keepdims_, noopEmpty_, axesInput_;
  // Per-run state, kept to reuse capacity.
  std::vector<int64_t> axes_;
  Shape keepShape_, outShape_;
  bool noop_ = false;
};

// ---- The kernel --------------------------------------------------------------

// The Reduce* kernel for policy P (P<T> for every numeric T).
template <template <class> class P>
class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(const char* op, ReduceAxes axes) : op_(op), axes_(std::move(axes)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, op_));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(axes_.resolve(in));
    Tensor& Y = *out[0];
    if (axes_.noop()) {
      Y.resize(X.dtype(), X.shape());
      if (X.bytes()) std::memcpy(Y.raw(), X.raw(), X.bytes());
      return Status::ok();
    }
    TOPIARY_RETURN_IF_ERROR(planReduction(X.shape(), axes_.keepShape(), plan_));
    Y.resize(X.dtype(), axes_.keepShape());
    const bool ok = visitNumeric(X.dtype(), [&](auto tag) {
      using T = decltype(tag);
      runReduction(plan_, X.data<T>(), Y.data<T>(), ctx.threads, P<T>{});
    });
    if (!ok) return Status::unsupported(std::string(op_) + " on " + dtypeName(X.dtype()) + " tensors is not supported");
    Y.reshapeInPlace(axes_.outShape());
    return Status::ok();
  }

  bool hasBackward() const override { return P<float>::kLinear; }

  // Linear reductions: dx = gradScale(count) * dy, broadcast back.
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!P<float>::kLinear) return Status::unsupported(std::string(op_) + " has no gradient");
    if (gradIn.empty() || !gradIn[0] || gradOut.empty() || !gradOut[0]) return Status::ok();
    const Tensor& X = *in[0];
    if (X.dtype() != DType::Float || gradOut[0]->dtype() != DType::Float)
      return Status::unsupported(std::string(op_) + " gradients are computed for float32 tensors only");
    TOPIARY_RETURN_IF_ERROR(axes_.resolve(in));
    gradIn[0]->resize(DType::Float, X.shape());
    if (axes_.noop()) {
      if (X.numel()) std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
      return Status::ok();
    }
    // dy has keepShape's elements whatever keepdims said; broadcast it back.
    TOPIARY_RETURN_IF_ERROR(planBinary(X.shape(), axes_.keepShape(), gradShape_, gradPlan_));
    if (gradOut[0]->numel() != numelOf(axes_.keepShape()))
      return Status::internal(std::string(op_) + " output gradient has the wrong size");
    const int64_t count = numelOf(axes_.keepShape()) ? X.numel() / numelOf(axes_.keepShape()) : 0;
    const float scale = static_cast<float>(P<float>::gradScale(count));
    const float* gy = gradOut[0]->f();
    float* gx = gradIn[0]->f();
    forEachRow<2>(gradPlan_, ctx.threads, [&](int64_t i, int64_t len, const int64_t* off, const int64_t* step) {
      const float* g = gy + off[1];
      if (step[1]) {
        for (int64_t j = 0; j < len; ++j) gx[i + j] = g[j] * scale;
      } else {
        const float v = *g * scale;
        for (int64_t j = 0; j < len; ++j) gx[i + j] = v;
      }
    });
    return Status::ok();
  }

  // kFlopsPerElement per input element, plus one per output element.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.empty()) return 0.0;
    return P<float>::kFlopsPerElement * static_cast<double>(numelOf(in[0])) +
           (out.empty() ? 0.0 : static_cast<double>(numelOf(out[0])));
  }

 private:
  const char* op_;
  ReduceAxes axes_;
  ReducePlan plan_;
  Shape gradShape_;
  BroadcastPlan<2> gradPlan_;
};

// The factory of a Reduce* operator whose axes became an input at opset
// `axesInputSince`.
template <template <class> class P>
Result<std::unique_ptr<Kernel>> makeReduce(const char* op, const Node& node, int opset, int axesInputSince) {
  const bool axesInput = opset >= axesInputSince;
  return make<ReduceKernel<P>>(
      op, ReduceAxes(op, axesInput ? std::vector<int64_t>{} : node.attrInts("axes"), node.attrInt("keepdims", 1) != 0,
                     node.attrInt("noop_with_empty_axes", 0) != 0, axesInput));
}

}  // namespace topiary::ops
