// Helpers for the neural-network operator tests: random tensors, building a
// kernel from a node description, running it, and checking a backward pass
// against central finite differences.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "topiary/graph.h"
#include "topiary/kernel.h"
#include "topiary/tensor.h"

namespace nntest {

using namespace topiary;

inline Tensor randomTensor(const Shape& s, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::Float, s);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = u(rng);
  return t;
}

// Values spaced 0.01 apart in random order: no two window elements tie, and
// a finite-difference step of 1e-3 never changes which one is the maximum.
inline Tensor distinctTensor(const Shape& s, std::mt19937& rng) {
  Tensor t(DType::Float, s);
  std::vector<int64_t> order(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::shuffle(order.begin(), order.end(), rng);
  for (int64_t i = 0; i < t.numel(); ++i) t.at(i) = 0.01f * static_cast<float>(order[static_cast<size_t>(i)]) - 1.f;
  return t;
}

inline Node makeNode(const std::string& op, std::map<std::string, Attribute> attrs = {}, size_t outputs = 1) {
  Node n;
  n.name = "test_" + op;
  n.opType = op;
  n.attrs = std::move(attrs);
  n.inputs = {"x"};
  for (size_t i = 0; i < outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  return n;
}

inline Result<std::unique_ptr<Kernel>> build(const std::string& op, std::map<std::string, Attribute> attrs = {},
                                             int opset = 13) {
  return OpRegistry::instance().build(makeNode(op, std::move(attrs)), opset);
}

// Runs forward; `nOut` outputs (all requested). Empty vector on failure, with the message in *why.
inline std::vector<Tensor> run(Kernel& k, const std::vector<const Tensor*>& in, size_t nOut, const RunContext& ctx,
                               std::string* why = nullptr) {
  std::vector<Tensor> outs(nOut);
  std::vector<Tensor*> ptrs;
  for (auto& t : outs) ptrs.push_back(&t);
  Status st = k.forward(in, ptrs, ctx);
  if (!st.isOk()) {
    if (why) *why = st.message();
    return {};
  }
  return outs;
}

inline std::vector<const Tensor*> ptrs(const std::vector<Tensor>& v) {
  std::vector<const Tensor*> p;
  for (const auto& t : v) p.push_back(t.numel() > 0 || t.rank() > 0 ? &t : nullptr);
  return p;
}

// Checks dL/d(inputs[i]) for every i in `which`, L = sum(Y0 * R) with a
// random R: the analytic gradient from backward() against central
// differences (eps 1e-3, loss accumulated in float64), on up to `maxElems`
// elements per input. Returns false with a description of the worst element.
inline bool gradCheck(Kernel& k, std::vector<Tensor> inputs, const std::vector<int>& which, const RunContext& ctx,
                      std::mt19937& rng, std::string* why, size_t nOut = 1, int maxElems = 48) {
  auto inPtrs = [&]() {
    std::vector<const Tensor*> p;
    for (const auto& t : inputs) p.push_back(&t);
    return p;
  };
  std::vector<Tensor> y = run(k, inPtrs(), nOut, ctx, why);
  if (y.empty()) return false;
  Tensor R = randomTensor(y[0].shape(), rng);
  auto loss = [&]() {
    std::vector<Tensor> o = run(k, inPtrs(), nOut, ctx);
    double s = 0;
    for (int64_t i = 0; i < o[0].numel(); ++i) s += static_cast<double>(o[0].at(i)) * R.at(i);
    return s;
  };
  std::vector<Tensor> grads(inputs.size());
  std::vector<Tensor*> gptr(inputs.size(), nullptr);
  for (int i : which) gptr[static_cast<size_t>(i)] = &grads[static_cast<size_t>(i)];
  std::vector<const Tensor*> outPtrs;
  for (const auto& t : y) outPtrs.push_back(&t);
  std::vector<const Tensor*> gOut(nOut, nullptr);
  gOut[0] = &R;
  Status st = k.backward(inPtrs(), outPtrs, gOut, gptr, ctx);
  if (!st.isOk()) {
    *why = "backward failed: " + st.message();
    return false;
  }
  const double eps = 1e-3;
  for (int i : which) {
    Tensor& x = inputs[static_cast<size_t>(i)];
    const Tensor& g = grads[static_cast<size_t>(i)];
    if (g.shape() != x.shape()) {
      *why = "gradient " + std::to_string(i) + " has shape " + shapeToString(g.shape());
      return false;
    }
    std::vector<int64_t> elems;
    if (x.numel() <= maxElems) {
      for (int64_t e = 0; e < x.numel(); ++e) elems.push_back(e);
    } else {
      std::uniform_int_distribution<int64_t> pick(0, x.numel() - 1);
      for (int e = 0; e < maxElems; ++e) elems.push_back(pick(rng));
    }
    for (int64_t e : elems) {
      float orig = x.at(e);
      x.at(e) = static_cast<float>(orig + eps);
      double lp = loss();
      x.at(e) = static_cast<float>(orig - eps);
      double lm = loss();
      x.at(e) = orig;
      // The perturbation actually applied, after rounding to float.
      double h = static_cast<double>(static_cast<float>(orig + eps)) - static_cast<double>(static_cast<float>(orig - eps));
      double numeric = (lp - lm) / h, analytic = g.at(e);
      double tol = 1e-2 * std::max(std::fabs(numeric), std::fabs(analytic)) + 1e-3;
      if (!(std::fabs(numeric - analytic) <= tol)) {
        *why = "input " + std::to_string(i) + " element " + std::to_string(e) + ": analytic " + std::to_string(analytic) +
               ", numeric " + std::to_string(numeric);
        return false;
      }
    }
  }
  return true;
}

// Iterates over every multi-index of `shape` (row-major).
template <class F>
void forEachIndex(const Shape& shape, F&& f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(idx);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

inline int64_t flatIndex(const Shape& shape, const std::vector<int64_t>& idx) {
  int64_t f = 0;
  for (size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + idx[d];
  return f;
}

}  // namespace nntest
