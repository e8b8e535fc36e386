// Helpers for the tensor-family operator tests: running one kernel from the
// registry, random tensors of any dtype, multi-index arithmetic for the
// naive references, and a finite-difference gradient check.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/kernel.h"
#include "topiary/tensor.h"

namespace tensortest {

using namespace topiary;

struct OpRun {
  Status status;
  std::vector<Tensor> outs;
};

inline Node makeNode(const std::string& op, std::map<std::string, Attribute> attrs, size_t nIn, size_t nOut,
                     const std::vector<const Tensor*>& in = {}) {
  Node n;
  n.opType = op;
  n.name = op + "_test";
  n.attrs = std::move(attrs);
  for (size_t i = 0; i < nIn; ++i) n.inputs.push_back(i < in.size() && !in[i] ? "" : "in" + std::to_string(i));
  for (size_t i = 0; i < nOut; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

inline Result<std::unique_ptr<Kernel>> buildOp(const std::string& op, std::map<std::string, Attribute> attrs,
                                               size_t nIn, size_t nOut, int opset) {
  return OpRegistry::instance().build(makeNode(op, std::move(attrs), nIn, nOut), opset);
}

// Builds the operator at `opset` and runs its forward pass once.
inline OpRun runOp(const std::string& op, std::map<std::string, Attribute> attrs, const std::vector<const Tensor*>& in,
                   size_t nOut = 1, int opset = 17, int threads = 1) {
  OpRun r;
  auto k = OpRegistry::instance().build(makeNode(op, std::move(attrs), in.size(), nOut, in), opset);
  if (!k) {
    r.status = k.status();
    return r;
  }
  r.outs.resize(nOut);
  std::vector<Tensor*> outs;
  for (auto& t : r.outs) outs.push_back(&t);
  RunContext ctx;
  ctx.threads = threads;
  r.status = k.value()->forward(in, outs, ctx);
  return r;
}

inline Tensor ints(const std::vector<int64_t>& v) { return Tensor::fromVector<int64_t>({static_cast<int64_t>(v.size())}, v); }

// Distinct values (so a wrong index shows), converted to `dt`.
inline Tensor randomTensor(std::mt19937& rng, const Shape& shape, DType dt = DType::Float) {
  Tensor f(DType::Float, shape);
  std::uniform_real_distribution<float> u(-4.f, 4.f);
  for (int64_t i = 0; i < f.numel(); ++i) f.at(i) = dt == DType::Float ? u(rng) : static_cast<float>((i * 37 + 11) % 251);
  return dt == DType::Float ? f : f.cast(dt);
}

inline Shape randomShape(std::mt19937& rng, int rank, int64_t maxDim = 5) {
  Shape s;
  for (int i = 0; i < rank; ++i) s.push_back(std::uniform_int_distribution<int64_t>(1, maxDim)(rng));
  return s;
}

inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

inline int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

// A tensor of `shape` whose element i is src's element srcIndex(i) (bytes
// copied by element size): the shape of every naive reference here.
template <class Fn>
Tensor gatherReference(const Tensor& src, const Shape& shape, Fn&& srcIndex) {
  Tensor out(src.dtype(), shape);
  const size_t es = dtypeSize(src.dtype());
  for (int64_t i = 0; i < out.numel(); ++i)
    std::memcpy(static_cast<char*>(out.raw()) + i * es, static_cast<const char*>(src.raw()) + srcIndex(i) * es, es);
  return out;
}

inline bool sameBytes(const Tensor& a, const Tensor& b) {
  // Empty tensors may hold no buffer: memcmp on a null pointer is UB even for 0 bytes.
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.bytes() == 0 || std::memcmp(a.raw(), b.raw(), a.bytes()) == 0);
}

// Finite-difference check of a kernel's backward for the float inputs
// listed in `check`. Loss = sum_k sum(w_k * out_k) with random weights w_k;
// outputs listed in `noGrad` get no gradient (and drop out of the loss).
// Returns the largest |analytic - numeric| over all checked elements, or
// +inf on any error.
inline double gradientError(const std::string& op, std::map<std::string, Attribute> attrs, std::vector<Tensor> inputs,
                            const std::vector<size_t>& check, size_t nOut = 1, int opset = 17,
                            const std::vector<size_t>& noGrad = {}) {
  const double inf = INFINITY;
  auto k = buildOp(op, attrs, inputs.size(), nOut, opset);
  if (!k || !k.value()->hasBackward()) return inf;
  Kernel& kernel = *k.value();
  RunContext ctx;
  std::mt19937 rng(7);
  auto ptrs = [&]() {
    std::vector<const Tensor*> p;
    for (auto& t : inputs) p.push_back(&t);
    return p;
  };
  std::vector<Tensor> outs(nOut);
  std::vector<Tensor*> outPtrs;
  for (auto& t : outs) outPtrs.push_back(&t);
  if (!kernel.forward(ptrs(), outPtrs, ctx).isOk()) return inf;
  std::vector<Tensor> weights;
  for (auto& o : outs) weights.push_back(randomTensor(rng, o.shape()));
  auto isNoGrad = [&](size_t j) { return std::find(noGrad.begin(), noGrad.end(), j) != noGrad.end(); };
  auto loss = [&]() {
    std::vector<Tensor> o(nOut);
    std::vector<Tensor*> op;
    for (auto& t : o) op.push_back(&t);
    if (!kernel.forward(ptrs(), op, ctx).isOk()) return double(NAN);
    double l = 0;
    for (size_t j = 0; j < nOut; ++j)
      if (!isNoGrad(j))
        for (int64_t i = 0; i < o[j].numel(); ++i) l += double(o[j].at(i)) * weights[j].at(i);
    return l;
  };
  std::vector<const Tensor*> gradOut;
  for (size_t j = 0; j < nOut; ++j) gradOut.push_back(isNoGrad(j) ? nullptr : &weights[j]);
  std::vector<Tensor> grads(inputs.size());
  std::vector<Tensor*> gradIn(inputs.size(), nullptr);
  for (size_t i : check) gradIn[i] = &grads[i];
  std::vector<const Tensor*> outConst;
  for (auto& t : outs) outConst.push_back(&t);
  if (!kernel.backward(ptrs(), outConst, gradOut, gradIn, ctx).isOk()) return inf;
  double worst = 0;
  const float eps = 0.5f;  // the ops are linear in the data: any step is exact up to rounding
  for (size_t i : check) {
    if (grads[i].shape() != inputs[i].shape()) return inf;
    for (int64_t e = 0; e < inputs[i].numel(); ++e) {
      float keep = inputs[i].at(e);
      inputs[i].at(e) = keep + eps;
      double lp = loss();
      inputs[i].at(e) = keep - eps;
      double lm = loss();
      inputs[i].at(e) = keep;
      double numeric = (lp - lm) / (2.0 * eps);
      worst = std::max(worst, std::fabs(numeric - grads[i].at(e)));
    }
  }
  return worst;
}

}  // namespace tensortest
