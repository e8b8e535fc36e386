// Base of the variadic broadcasting operators (Max, Min, Sum, Mean): the
// output is the broadcast of all inputs; it is filled with the first input
// and then combined in place with each further one.
#pragma once

#include <string>

#include "ops/common.h"
#include "ops/elementwise/broadcast.h"
#include "ops/elementwise/dispatch.h"

namespace topiary::ops {

class VariadicKernel : public Kernel {
 protected:
  // y = fold(op, inputs). `floatsOnly` limits the types to float32/float64.
  template <class Op>
  Status fold(const char* name, const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
              const RunContext& ctx, bool floatsOnly, Op op) {
    if (in.empty() || !in[0]) return Status::badInput(std::string(name) + " needs at least one input");
    const DType dt = in[0]->dtype();
    outShape_.assign(in[0]->shape().begin(), in[0]->shape().end());
    for (size_t k = 1; k < in.size(); ++k) {
      if (!in[k]) return Status::badInput(std::string(name) + " input " + std::to_string(k) + " is missing");
      if (in[k]->dtype() != dt)
        return Status::badInput(std::string(name) + " inputs have different types (" + dtypeName(dt) + " and " +
                                dtypeName(in[k]->dtype()) + ")");
      step_.assign(outShape_.begin(), outShape_.end());
      TOPIARY_RETURN_IF_ERROR(planBinary(step_, in[k]->shape(), outShape_, plan_));
    }
    if (floatsOnly && dt != DType::Float && dt != DType::Double)
      return Status::unsupported(std::string(name) + " on " + dtypeName(dt) + " tensors is not supported");
    out[0]->resize(dt, outShape_);
    Tensor& Y = *out[0];
    Status st;
    bool ok = visitNumeric(dt, [&](auto tag) {
      using T = decltype(tag);
      T* y = Y.data<T>();
      for (size_t k = 0; k < in.size() && st.isOk(); ++k) {
        st = planBinary(outShape_, in[k]->shape(), step_, plan_);
        if (!st.isOk()) break;
        const T* x = in[k]->data<T>();
        if (k == 0)
          runBinary(plan_, y, x, y, ctx.threads, [](T, T b) { return b; });  // y may hold garbage: ignore it
        else
          runBinary(plan_, y, x, y, ctx.threads, [op](T a, T b) { return static_cast<T>(op(a, b)); });
      }
    });
    if (!ok) return Status::unsupported(std::string(name) + " on " + dtypeName(dt) + " tensors is not supported");
    return st;
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    return out.empty() || in.size() < 2 ? 0.0
                                        : static_cast<double>(in.size() - 1) * static_cast<double>(numelOf(out[0]));
  }

  Shape outShape_, step_;
  BroadcastPlan<2> plan_;
};

}  // namespace topiary::ops
