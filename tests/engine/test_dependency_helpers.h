// Small graphs and helpers shared by test_dependency.cpp and test_surgery.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "arch/graph_builder.h"
#include "topiary/arch.h"
#include "topiary/dependency.h"
#include "topiary/executor.h"

namespace deptest {

using namespace topiary;
using arch::GraphBuilder;

inline std::set<std::string> asSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

// Replaces every float initializer with random values of a sensible scale, so
// BatchNorm is not the identity (non-zero beta and mean, varied variance) and
// a channel that is still read after masking would show in the outputs.
inline void randomizeWeights(Graph& g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::set<std::string> bnVar, bnScale;
  for (const auto& n : g.nodes)
    if (n.opType == "BatchNormalization") {
      bnScale.insert(n.input(1));
      bnVar.insert(n.input(4));
    }
  for (auto& kv : g.initializers) {
    Tensor& t = kv.second;
    if (t.dtype() != DType::Float) continue;
    int64_t fanIn = t.rank() >= 2 ? t.numel() / t.dim(0) : 1;
    float scale = t.rank() >= 2 ? std::sqrt(3.f / static_cast<float>(fanIn)) : 0.5f;
    for (int64_t i = 0; i < t.numel(); ++i) {
      float v = u(rng);
      if (bnVar.count(kv.first)) t.f()[i] = 1.f + 0.5f * v;
      else if (bnScale.count(kv.first)) t.f()[i] = 1.f + 0.4f * v;
      else t.f()[i] = scale * v;
    }
  }
}

inline Tensor randomInput(const Graph& g, int64_t batch, uint64_t seed) {
  auto t = makeInputLike(g.inputs.at(0), batch);
  Tensor x = t.isOk() ? t.value() : Tensor();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) x.f()[i] = u(rng);
  return x;
}

// Runs the graph; an empty tensor when it fails (the caller's QVERIFY shows it).
inline Tensor runGraph(const Graph& g, const Tensor& x, std::string* error = nullptr) {
  ExecutorOptions one;
  one.threads = 1;  // tests run beside builds on few cores: threads only add waiting
  auto ex = Executor::create(g, one);
  if (!ex) {
    if (error) *error = ex.status().message();
    return Tensor();
  }
  Status st = (*ex)->run(x);
  if (!st.isOk()) {
    if (error) *error = st.message();
    return Tensor();
  }
  return (*ex)->output(0);
}

// HardSwish exists from opset 14; mobilenet-tiny is built at 13 by
// arch/architectures.cpp (reported to its owner), so lift it here.
inline Result<Graph> architecture(const std::string& name) {
  auto g = buildArchitecture(name);
  if (g.isOk() && g->opset() < 14)
    for (auto& imp : g->opsetImports)
      if (imp.domain.empty() || imp.domain == "ai.onnx") imp.version = 14;
  return g;
}

inline const DependencyGroup* producedBy(const std::vector<DependencyGroup>& groups, const std::string& node) {
  int id = groupProducedBy(groups, node);
  return id < 0 ? nullptr : &groups[static_cast<size_t>(id)];
}

// Every other channel, starting at 1 (so channel 0 stays): about half.
inline std::vector<int64_t> everyOther(int64_t channels) {
  std::vector<int64_t> out;
  for (int64_t c = 1; c < channels; c += 2) out.push_back(c);
  return out;
}

// ---- hand-made patterns (input [N,3,8,8], output "logits" [N,4]) ----------
inline void head(GraphBuilder& b, const std::string& x, int64_t c) {
  std::string y = b.flatten(b.globalAveragePool(x, "gap"), "flatten");
  b.output(b.gemm(y, "fc", c, 4), "logits", {4});
}

// conv1 -> bn1 -> relu1 -> conv2 -> (gap, flatten, fc)
inline Graph chainGraph() {
  GraphBuilder b("chain", 7);
  std::string x = b.input("input", {3, 8, 8});
  x = b.relu(b.batchNorm(b.conv(x, "conv1", 3, 8, 3, 1, 1), "bn1", 8), "relu1");
  x = b.conv(x, "conv2", 8, 6, 3, 1, 1);
  head(b, x, 6);
  return b.finish().value();
}

// stem -> relu; branch convA -> bnA -> reluA -> convB -> bnB; Add(bnB, stem relu) -> relu -> conv3
inline Graph residualGraph() {
  GraphBuilder b("residual", 7);
  std::string x = b.input("input", {3, 8, 8});
  x = b.relu(b.batchNorm(b.conv(x, "stem", 3, 8, 3, 1, 1), "stem_bn", 8), "stem_relu");
  std::string y = b.relu(b.batchNorm(b.conv(x, "convA", 8, 8, 3, 1, 1), "bnA", 8), "reluA");
  y = b.batchNorm(b.conv(y, "convB", 8, 8, 3, 1, 1), "bnB", 8);
  x = b.relu(b.add(y, x, "add"), "add_relu");
  x = b.conv(x, "conv3", 8, 6, 1);
  head(b, x, 6);
  return b.finish().value();
}

// convA (4) and convB (6) -> Concat -> bn -> relu -> conv3 (10 -> 5)
inline Graph concatGraph() {
  GraphBuilder b("concat", 7);
  std::string x = b.input("input", {3, 8, 8});
  std::string a = b.conv(x, "convA", 3, 4, 3, 1, 1);
  std::string c = b.relu(b.conv(x, "convB", 3, 6, 1), "reluB");
  std::string y = b.node("Concat", "cat", {a, c}, {{"axis", Attribute::ofInt(1)}});
  y = b.relu(b.batchNorm(y, "cat_bn", 10), "cat_relu");
  y = b.conv(y, "conv3", 10, 5, 3, 1, 1);
  head(b, y, 5);
  return b.finish().value();
}

// conv1 -> bn -> relu -> depthwise -> bn -> relu -> pointwise
inline Graph depthwiseGraph() {
  GraphBuilder b("depthwise", 7);
  std::string x = b.input("input", {3, 8, 8});
  x = b.relu(b.batchNorm(b.conv(x, "conv1", 3, 8, 3, 1, 1), "bn1", 8), "relu1");
  x = b.relu(b.batchNorm(b.conv(x, "dw", 8, 8, 3, 1, 1, 8), "dw_bn", 8), "dw_relu");
  x = b.conv(x, "pw", 8, 6, 1);
  head(b, x, 6);
  return b.finish().value();
}

// conv1 -> hardswish = x; GAP(x) -> se_reduce -> relu -> se_expand -> hardsigmoid = s; Mul(x, s) -> conv2
inline Graph seGraph() {
  GraphBuilder b("se", 7, 14);  // HardSwish needs opset 14
  std::string x = b.input("input", {3, 8, 8});
  x = b.hardSwish(b.batchNorm(b.conv(x, "conv1", 3, 8, 3, 1, 1), "bn1", 8), "act1");
  std::string s = b.globalAveragePool(x, "se_pool");
  s = b.relu(b.conv(s, "se_reduce", 8, 4, 1), "se_relu");
  s = b.hardSigmoid(b.conv(s, "se_expand", 4, 8, 1), "se_gate");
  x = b.mul(x, s, "se_scale");
  x = b.conv(x, "conv2", 8, 6, 1);
  head(b, x, 6);
  return b.finish().value();
}

// conv1 (4, 5x5 map) -> relu -> Flatten -> fc1 (100 -> 10) -> relu -> fc2 (10 -> 4)
inline Graph flattenGemmGraph(bool reshapeInsteadOfFlatten = false) {
  GraphBuilder b("flatten_gemm", 7);
  std::string x = b.input("input", {3, 5, 5});
  x = b.relu(b.conv(x, "conv1", 3, 4, 3, 1, 1), "relu1");
  if (reshapeInsteadOfFlatten) {
    std::string shape = b.constant("flat_shape", Tensor::fromVector<int64_t>({2}, {-1, 100}));
    x = b.node("Reshape", "flat", {x, shape});
  } else {
    x = b.flatten(x, "flat");
  }
  x = b.relu(b.gemm(x, "fc1", 100, 10), "fc1_relu");
  b.output(b.gemm(x, "fc2", 10, 4), "logits", {4});
  return b.finish().value();
}

// convA (2) and convB (3) on 4x4 -> Concat -> Flatten -> fc (80 -> 4): offsets times H*W
inline Graph concatFlattenGraph() {
  GraphBuilder b("concat_flatten", 7);
  std::string x = b.input("input", {3, 4, 4});
  std::string a = b.relu(b.conv(x, "convA", 3, 2, 3, 1, 1), "reluA");
  std::string c = b.conv(x, "convB", 3, 3, 1);
  std::string y = b.node("Concat", "cat", {a, c}, {{"axis", Attribute::ofInt(1)}});
  b.output(b.gemm(b.flatten(y, "flat"), "fc", 80, 4), "logits", {4});
  return b.finish().value();
}

// The Keras Flatten as tf2onnx writes it: conv1 (4) -> relu -> Transpose to
// NHWC -> Reshape [-1, 100] -> MatMul (100 -> 6) -> Add -> relu -> fc2. Channel
// c of conv1 is rows c, c + 4, ..., c + 96 of the MatMul weight.
inline Graph nhwcFlattenGraph() {
  GraphBuilder b("nhwc_flatten", 7);
  std::string x = b.input("input", {3, 5, 5});
  x = b.relu(b.conv(x, "conv1", 3, 4, 3, 1, 1), "relu1");
  x = b.node("Transpose", "to_nhwc", {x}, {{"perm", Attribute::ofInts({0, 2, 3, 1})}});
  x = b.node("Reshape", "flat", {x, b.constant("flat_shape", Tensor::fromVector<int64_t>({2}, {-1, 100}))});
  x = b.node("MatMul", "fc1", {x, b.heUniform("fc1.weight", {100, 6}, 100)});
  x = b.relu(b.node("Add", "fc1_add", {x, b.constant("fc1.bias", Tensor(DType::Float, {6}))}), "fc1_relu");
  b.output(b.gemm(x, "fc2", 6, 4), "logits", {4});
  return b.finish().value();
}

// convA (2) and convB (3) on 4x4 -> Concat -> Transpose to NHWC -> Relu ->
// Flatten -> fc (80 -> 4): convB's channel c is columns 2 + c + 5k.
inline Graph nhwcConcatFlattenGraph() {
  GraphBuilder b("nhwc_concat_flatten", 7);
  std::string x = b.input("input", {3, 4, 4});
  std::string a = b.relu(b.conv(x, "convA", 3, 2, 3, 1, 1), "reluA");
  std::string c = b.conv(x, "convB", 3, 3, 1);
  std::string y = b.node("Concat", "cat", {a, c}, {{"axis", Attribute::ofInt(1)}});
  y = b.node("Transpose", "to_nhwc", {y}, {{"perm", Attribute::ofInts({0, 2, 3, 1})}});
  y = b.relu(y, "relu_nhwc");
  b.output(b.gemm(b.flatten(y, "flat"), "fc", 80, 4), "logits", {4});
  return b.finish().value();
}

// conv1 (6) -> Transpose to NHWC -> HardSwish -> Transpose back -> conv2 (5) -> head
inline Graph nhwcRoundTripGraph() {
  GraphBuilder b("nhwc_round_trip", 7, 14);
  std::string x = b.input("input", {3, 6, 6});
  x = b.conv(x, "conv1", 3, 6, 3, 1, 1);
  x = b.node("Transpose", "to_nhwc", {x}, {{"perm", Attribute::ofInts({0, 2, 3, 1})}});
  x = b.hardSwish(x, "act");
  x = b.node("Transpose", "to_nchw", {x}, {{"perm", Attribute::ofInts({0, 3, 1, 2})}});
  x = b.conv(x, "conv2", 6, 5, 3, 1, 1);
  head(b, x, 5);
  return b.finish().value();
}

// Concat(Concat(convA, convB), convC) -> bn -> conv3, and a residual-free MaxPool on the way
inline Graph nestedConcatGraph() {
  GraphBuilder b("nested_concat", 7);
  std::string x = b.input("input", {3, 8, 8});
  std::string a = b.conv(x, "convA", 3, 2, 3, 1, 1);
  std::string c = b.conv(x, "convB", 3, 3, 1);
  std::string d = b.maxPool(b.conv(x, "convC", 3, 4, 3, 1, 1), "poolC", 3, 1, 1);
  std::string y = b.node("Concat", "cat1", {a, c}, {{"axis", Attribute::ofInt(1)}});
  y = b.node("Concat", "cat2", {y, d}, {{"axis", Attribute::ofInt(1)}});
  y = b.conv(b.relu(b.batchNorm(y, "bn", 9), "relu"), "conv3", 9, 5, 3, 1, 1);
  head(b, y, 5);
  return b.finish().value();
}

// [N,8] -> MatMul (8x6) -> Add bias -> Relu -> MatMul (6x4) = logits
inline Graph matmulGraph() {
  GraphBuilder b("matmul", 7);
  std::string x = b.input("input", {8});
  std::string w1 = b.heUniform("w1", {8, 6}, 8);
  std::string b1 = b.constant("b1", Tensor(DType::Float, {6}));
  std::string w2 = b.heUniform("w2", {6, 4}, 6);
  x = b.node("MatMul", "mm1", {x, w1});
  x = b.relu(b.node("Add", "bias1", {x, b1}), "relu1");
  b.output(b.node("MatMul", "mm2", {x, w2}), "logits", {4});
  return b.finish().value();
}

// conv1 (6) -> PRelu [6,1,1] -> Mul [1,6,1,1] -> Div [6,1,1] -> MaxPool -> Pad (spatial) -> conv2 (5)
// -> ReduceMean(2,3) -> Squeeze -> Gemm with transB=0 ([5,4] weight)
inline Graph passthroughMixGraph() {
  GraphBuilder b("mix", 7);
  std::string x = b.input("input", {3, 6, 6});
  x = b.conv(x, "conv1", 3, 6, 3, 1, 1);
  x = b.node("PRelu", "prelu", {x, b.heUniform("slope", {6, 1, 1}, 1)});
  x = b.node("Mul", "scale", {x, b.heUniform("gain", {1, 6, 1, 1}, 1)});
  Tensor d(DType::Float, {6, 1, 1});
  d.fill(2.f);
  x = b.node("Div", "div", {x, b.constant("divisor", d)});
  // Pool before Pad: ONNX Runtime's Pad+MaxPool fusion pads with -inf
  // instead of 0 (ORT PR #18136), which would break the ORT comparison.
  x = b.maxPool(x, "pool", 2, 2);
  std::string pads = b.constant("pads", Tensor::fromVector<int64_t>({8}, {0, 0, 1, 1, 0, 0, 1, 1}));
  x = b.node("Pad", "pad", {x, pads});
  x = b.conv(x, "conv2", 6, 5, 3, 1, 1);
  x = b.node("ReduceMean", "mean", {x}, {{"axes", Attribute::ofInts({2, 3})}});
  x = b.node("Squeeze", "squeeze", {x, b.constant("sq_axes", Tensor::fromVector<int64_t>({2}, {2, 3}))});
  std::string w = b.heUniform("fc.weight", {5, 4}, 5);
  std::string bias = b.heUniform("fc.bias", {4}, 5);
  b.output(b.node("Gemm", "fc", {x, w, bias}), "logits", {4});
  return b.finish().value();
}

}  // namespace deptest
