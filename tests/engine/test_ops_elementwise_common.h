// Helpers for the elementwise operator tests: building and running one
// kernel from the registry, random tensors, a naive broadcasting reference
// and a central finite-difference check of backward().
#pragma once

#include <QtTest>
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/kernel.h"
#include "topiary/tensor.h"

namespace ewtest {

using namespace topiary;
using Attrs = std::map<std::string, Attribute>;

inline Node makeNode(const std::string& op, Attrs attrs, const std::vector<const Tensor*>& in, size_t nOut) {
  Node n;
  n.opType = op;
  n.name = op + "_under_test";
  n.attrs = std::move(attrs);
  for (size_t i = 0; i < in.size(); ++i) n.inputs.push_back(in[i] ? "in" + std::to_string(i) : "");
  for (size_t i = 0; i < nOut; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

inline std::unique_ptr<Kernel> build(const std::string& op, Attrs attrs, const std::vector<const Tensor*>& in,
                                     size_t nOut = 1, int opset = 17) {
  auto k = OpRegistry::instance().build(makeNode(op, std::move(attrs), in, nOut), opset);
  if (!k) qWarning("%s", k.status().message().c_str());
  return k ? std::move(k.value()) : nullptr;
}

struct Run {
  Status status;
  std::vector<Tensor> outs;
};

inline Run forward(Kernel& k, const std::vector<const Tensor*>& in, size_t nOut = 1, int threads = 1,
                   bool training = false) {
  Run r;
  r.outs.resize(nOut);
  std::vector<Tensor*> out;
  for (auto& t : r.outs) out.push_back(&t);
  RunContext ctx;
  ctx.threads = threads;
  ctx.training = training;
  r.status = k.forward(in, out, ctx);
  return r;
}

// Builds the operator and runs it once.
inline Run run(const std::string& op, Attrs attrs, const std::vector<const Tensor*>& in, size_t nOut = 1,
               int opset = 17, int threads = 1) {
  auto k = build(op, std::move(attrs), in, nOut, opset);
  if (!k) return {Status::internal("build failed"), {}};
  return forward(*k, in, nOut, threads);
}

// Uniform values in [lo, hi), avoiding a band of +-gap around each kink
// (where finite differences of a piecewise function are meaningless).
inline Tensor randomTensor(std::mt19937& rng, const Shape& shape, float lo = -2.f, float hi = 2.f,
                           std::vector<float> kinks = {}, float gap = 0.02f) {
  Tensor t(DType::Float, shape);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v;
    bool nearKink;
    do {
      v = u(rng);
      nearKink = false;
      for (float k : kinks) nearKink |= std::fabs(v - k) < gap;
    } while (nearKink);
    t.at(i) = v;
  }
  return t;
}

inline Shape broadcastOf(const Shape& a, const Shape& b) {
  size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Index into a tensor of shape `s` for the output multi-index `idx`
// (right-aligned, size-1 dims broadcast).
inline int64_t sourceIndex(const std::vector<int64_t>& idx, const Shape& s) {
  int64_t off = 0;
  size_t lead = idx.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d) off = off * s[d] + (s[d] == 1 ? 0 : idx[lead + d]);
  return off;
}

inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

// Naive broadcasting reference in double.
inline std::vector<double> refBinary(const std::vector<double>& a, const Shape& sa, const std::vector<double>& b,
                                     const Shape& sb, const std::function<double(double, double)>& f, Shape* outShape) {
  Shape so = broadcastOf(sa, sb);
  int64_t n = 1;
  for (int64_t d : so) n *= d;
  std::vector<double> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto idx = unravel(i, so);
    y[static_cast<size_t>(i)] =
        f(a[static_cast<size_t>(sourceIndex(idx, sa))], b[static_cast<size_t>(sourceIndex(idx, sb))]);
  }
  if (outShape) *outShape = so;
  return y;
}

// Worst |got - want| / (atol + rtol*|want|); <= 1 means within tolerance.
inline double worstRatio(const Tensor& got, const std::vector<double>& want, double rtol, double atol) {
  auto g = got.toDoubles();
  if (g.size() != want.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(want[i]) && std::isnan(g[i])) continue;
    worst = std::max(worst, std::fabs(g[i] - want[i]) / (atol + rtol * std::fabs(want[i])));
    if (std::isnan(g[i]) != std::isnan(want[i])) return INFINITY;
  }
  return worst;
}

// Checks backward() of a built kernel against central finite differences of
// L = sum(w * y0) with random weights w, for every float input listed in
// `check`. Returns the worst relative error (|num - ana| / max(1e-2, |num|)).
inline double gradCheck(Kernel& k, std::vector<Tensor> inputs, const std::vector<size_t>& check, std::mt19937& rng,
                        size_t nOut = 1, bool training = false, double eps = 1e-3) {
  std::vector<const Tensor*> in;
  for (auto& t : inputs) in.push_back(&t);
  Run base = forward(k, in, nOut, 1, training);
  if (!base.status.isOk()) {
    qWarning("forward: %s", base.status.message().c_str());
    return INFINITY;
  }
  Tensor w = randomTensor(rng, base.outs[0].shape(), -1.f, 1.f);
  auto loss = [&]() {
    Run r = forward(k, in, nOut, 1, training);
    double s = 0;
    for (int64_t i = 0; i < r.outs[0].numel(); ++i) s += static_cast<double>(r.outs[0].at(i)) * w.at(i);
    return s;
  };
  // Analytic gradients (after a fresh forward so stateful kernels match).
  base = forward(k, in, nOut, 1, training);
  std::vector<Tensor> grads(inputs.size());
  std::vector<Tensor*> gradIn(inputs.size(), nullptr);
  for (size_t c : check) gradIn[c] = &grads[c];
  std::vector<const Tensor*> outs, gradOut;
  for (auto& t : base.outs) outs.push_back(&t);
  gradOut.push_back(&w);
  for (size_t i = 1; i < nOut; ++i) gradOut.push_back(nullptr);
  RunContext ctx;
  ctx.training = training;
  Status st = k.backward(in, outs, gradOut, gradIn, ctx);
  if (!st.isOk()) {
    qWarning("backward: %s", st.message().c_str());
    return INFINITY;
  }
  double worst = 0;
  for (size_t c : check) {
    if (grads[c].shape() != inputs[c].shape()) return INFINITY;
    for (int64_t i = 0; i < inputs[c].numel(); ++i) {
      float orig = inputs[c].at(i);
      inputs[c].at(i) = orig + static_cast<float>(eps);
      double lp = loss();
      inputs[c].at(i) = orig - static_cast<float>(eps);
      double lm = loss();
      inputs[c].at(i) = orig;
      double num = (lp - lm) / (2 * eps);
      double ana = grads[c].at(i);
      worst = std::max(worst, std::fabs(num - ana) / std::max(1e-2, std::fabs(num)));
    }
  }
  return worst;
}

}  // namespace ewtest
