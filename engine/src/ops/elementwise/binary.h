// Base of the broadcasting binary operators (Add, Sub, Mul, Div, Pow,
// comparisons): output shape and plan kept between runs (no allocation in
// steady state), dtype dispatch, and the gradient of a broadcast operand
// (elementwise term over the output, summed over the broadcast dims).
#pragma once

#include <cstdint>
#include <string>

#include "ops/common.h"
#include "ops/elementwise/broadcast.h"
#include "ops/elementwise/dispatch.h"

namespace topiary::ops {

// Opset < 7 arithmetic had explicit `broadcast`/`axis` attributes. With
// `broadcast` alone b is suffix-aligned, which numpy-style broadcasting
// covers; `axis` aligns b's first dim with a's dim `axis` instead, which
// BinaryKernel emulates by padding b's shape with trailing ones.
constexpr int64_t kNoLegacyAxis = INT64_MIN;
inline int64_t legacyAxisOf(const Node& node, int opset) {
  if (opset < 7 && node.attrInt("broadcast", 0) != 0 && node.hasAttr("axis")) return node.attrInt("axis", 0);
  return kNoLegacyAxis;
}
// For operators without the legacy form.
inline Status checkLegacyBroadcast(const Node& node, int opset) {
  if (opset < 7 && node.hasAttr("axis"))
    return Status::unsupported("the legacy 'axis' broadcast attribute (opset < 7) is not supported for " + node.opType);
  return Status::ok();
}

class BinaryKernel : public Kernel {
 protected:
  explicit BinaryKernel(int64_t legacyAxis = kNoLegacyAxis) : legacyAxis_(legacyAxis) {}

  // b's shape as broadcasting sees it (see legacyAxisOf).
  Status effectiveShapeB(const Tensor& A, const Tensor& B, const Shape*& sb) {
    sb = &B.shape();
    if (legacyAxis_ == kNoLegacyAxis) return Status::ok();
    int64_t axis = legacyAxis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, A.rank(), "broadcast axis"));
    const int64_t pad = A.rank() - axis - B.rank();
    if (pad < 0)
      return Status::badInput("shape " + shapeToString(B.shape()) + " does not fit in " + shapeToString(A.shape()) +
                              " from axis " + std::to_string(legacyAxis_));
    legacyB_.assign(B.shape().begin(), B.shape().end());
    legacyB_.insert(legacyB_.end(), static_cast<size_t>(pad), 1);
    sb = &legacyB_;
    return Status::ok();
  }

  // Checks both inputs exist and plans the broadcast into outShape_/plan_.
  Status plan(const char* op, const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, op));
    const Shape* sb = nullptr;
    TOPIARY_RETURN_IF_ERROR(effectiveShapeB(*in[0], *in[1], sb));
    return planBinary(in[0]->shape(), *sb, outShape_, plan_);
  }

  // y = op(a, b) for two inputs of the same numeric type; the output has
  // that type too. Unsupported for other types.
  template <class Op>
  Status forwardSameType(const char* name, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                         const RunContext& ctx, Op op) {
    TOPIARY_RETURN_IF_ERROR(plan(name, in));
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    if (A.dtype() != B.dtype())
      return Status::badInput(std::string(name) + " inputs have different types (" + dtypeName(A.dtype()) + " and " +
                              dtypeName(B.dtype()) + ")");
    out[0]->resize(A.dtype(), outShape_);
    Tensor& Y = *out[0];
    bool ok = visitNumeric(A.dtype(), [&](auto tag) {
      using T = decltype(tag);
      runBinary(plan_, A.data<T>(), B.data<T>(), Y.data<T>(), ctx.threads, [op](T a, T b) { return op(a, b); });
    });
    if (!ok)
      return Status::unsupported(std::string(name) + " on " + dtypeName(A.dtype()) + " tensors is not supported");
    return Status::ok();
  }

  // y = pred(a, b) as bool for two inputs of the same numeric or bool type.
  template <class Pred>
  Status forwardCompare(const char* name, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                        const RunContext& ctx, Pred pred) {
    TOPIARY_RETURN_IF_ERROR(plan(name, in));
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    if (A.dtype() != B.dtype())
      return Status::badInput(std::string(name) + " inputs have different types (" + dtypeName(A.dtype()) + " and " +
                              dtypeName(B.dtype()) + ")");
    out[0]->resize(DType::Bool, outShape_);
    uint8_t* y = out[0]->data<uint8_t>();
    auto body = [&](auto tag) {
      using T = decltype(tag);
      runBinary(plan_, A.data<T>(), B.data<T>(), y, ctx.threads,
                [pred](T a, T b) { return static_cast<uint8_t>(pred(a, b) ? 1 : 0); });
    };
    if (A.dtype() == DType::Bool) {
      body(uint8_t{});
      return Status::ok();
    }
    if (!visitNumeric(A.dtype(), body))
      return Status::unsupported(std::string(name) + " on " + dtypeName(A.dtype()) + " tensors is not supported");
    return Status::ok();
  }

  // Writes into grad (shaped like in[k]) the sum over the broadcast dims of
  // term(gy, a, b), evaluated at every output element. Float32 only.
  template <class Term>
  Status operandGrad(size_t k, const std::vector<const Tensor*>& in, const Tensor& gy, Tensor* grad,
                     const RunContext& ctx, Term term) {
    if (!grad) return Status::ok();
    const Tensor& A = *in[0];
    const Tensor& B = *in[1];
    if (A.dtype() != DType::Float || B.dtype() != DType::Float || gy.dtype() != DType::Float)
      return Status::unsupported("gradients are computed for float32 tensors only");
    const Shape* sb = nullptr;
    TOPIARY_RETURN_IF_ERROR(effectiveShapeB(A, B, sb));
    const Shape* shapes[3] = {&gy.shape(), &A.shape(), sb};
    TOPIARY_RETURN_IF_ERROR(planBroadcast<3>(shapes, gradShape_, gradPlan_));
    if (gradShape_ != gy.shape()) return Status::internal("output gradient has the wrong shape");
    const Shape& target = k == 0 ? A.shape() : *sb;
    grad->resize(DType::Float, target);
    const bool direct = target == gy.shape();
    float* t = grad->f();
    if (!direct) {
      scratch_.resize(DType::Float, gy.shape());
      t = scratch_.f();
    }
    const float* g = gy.f();
    const float* a = A.f();
    const float* b = B.f();
    forEachRow<3>(gradPlan_, ctx.threads, [&](int64_t i, int64_t len, const int64_t* off, const int64_t* step) {
      const float* pg = g + off[0];
      const float* pa = a + off[1];
      const float* pb = b + off[2];
      const int64_t sa = step[1], sb = step[2];
      for (int64_t j = 0; j < len; ++j) t[i + j] = term(pg[j], pa[j * sa], pb[j * sb]);
    });
    if (!direct) TOPIARY_RETURN_IF_ERROR(sumToShape(t, gy.shape(), grad->f(), target, ctx.threads));
    grad->reshapeInPlace(in[k]->shape());  // same elements; drops legacy padding
    return Status::ok();
  }

  double flops(const std::vector<Shape>&, const std::vector<Shape>& out) const override {
    return out.empty() ? 0.0 : static_cast<double>(numelOf(out[0]));
  }

  int64_t legacyAxis_;
  Shape legacyB_;
  Shape outShape_;
  BroadcastPlan<2> plan_;
  Shape gradShape_;
  BroadcastPlan<3> gradPlan_;
  Tensor scratch_;
};

}  // namespace topiary::ops
