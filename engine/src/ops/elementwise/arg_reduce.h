// Shared by ArgMax, ArgMin and Hardmax: which element along one axis wins.
// NaN wins over every number, as in numpy's argmax and argmin; among equal
// values the first wins, or the last with select_last_index.
#pragma once

#include <string>

#include "ops/common.h"
#include "ops/elementwise/dispatch.h"
#include "ops/elementwise/softmax_common.h"

namespace topiary::ops {

// True when x replaces the current winner `best` (x comes later).
template <bool Max, class T>
bool argBetter(T x, T best, bool last) {
  if (isNan(best)) return last && isNan(x);
  if (isNan(x)) return true;
  if (last) return Max ? x >= best : x <= best;
  return Max ? x > best : x < best;
}

// Index along g.n of the winner of the line starting at x, stride g.inner.
template <bool Max, class T>
int64_t argWinner(const T* x, const SoftmaxGeometry& g, bool last) {
  int64_t best = 0;
  for (int64_t k = 1; k < g.n; ++k)
    if (argBetter<Max>(x[k * g.inner], x[best * g.inner], last)) best = k;
  return best;
}

// ArgMax (Max = true) and ArgMin: int64 indices along `axis`, which stays as
// a dim of 1 when keepdims.
template <bool Max>
class ArgReduceKernel final : public Kernel {
 public:
  ArgReduceKernel(int64_t axis, bool keepdims, bool last) : axis_(axis), keepdims_(keepdims), last_(last) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    const char* op = Max ? "ArgMax" : "ArgMin";
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, op));
    const Tensor& X = *in[0];
    if (X.rank() == 0) return Status::badInput(std::string(op) + " needs an input of rank 1 or more");
    int64_t axis = axis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, X.rank(), std::string(op) + " axis"));
    SoftmaxGeometry g;
    TOPIARY_RETURN_IF_ERROR(softmaxGeometry(X.shape(), axis, false, g));
    if (g.n == 0 && g.outer * g.inner > 0)
      return Status::badInput(std::string(op) + " over an empty axis has no answer");
    outShape_.assign(X.shape().begin(), X.shape().end());
    if (keepdims_)
      outShape_[static_cast<size_t>(axis)] = 1;
    else
      outShape_.erase(outShape_.begin() + axis);
    out[0]->resize(DType::Int64, outShape_);
    int64_t* y = out[0]->data<int64_t>();
    const bool last = last_;
    const bool ok = visitNumeric(X.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* x = X.data<T>();
      parallelFor(
          g.outer * g.inner, ctx.threads,
          [&](int64_t b, int64_t e) {
            for (int64_t u = b; u < e; ++u)
              y[u] = argWinner<Max>(x + (u / g.inner) * g.n * g.inner + u % g.inner, g, last);
          },
          std::max<int64_t>(1, 4096 / std::max<int64_t>(1, g.n)));
    });
    if (!ok) return Status::unsupported(std::string(op) + " on " + dtypeName(X.dtype()) + " tensors is not supported");
    return Status::ok();
  }

  // One comparison per input element.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : static_cast<double>(numelOf(in[0]));
  }

 private:
  int64_t axis_;
  bool keepdims_, last_;
  Shape outShape_;
};

template <bool Max>
Result<std::unique_ptr<Kernel>> makeArgReduce(const Node& node) {
  return make<ArgReduceKernel<Max>>(node.attrInt("axis", 0), node.attrInt("keepdims", 1) != 0,
                                    node.attrInt("select_last_index", 0) != 0);
}

}  // namespace topiary::ops
