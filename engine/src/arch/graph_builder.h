// GraphBuilder: a small helper that assembles ONNX graphs layer by layer with
// freshly initialised weights. Used by the architectures and by tests that
// need small graphs. Every layer method returns the name of its output tensor;
// node names are unique (a name already used gets a numeric suffix) and the
// node's output tensor carries the node's name.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/status.h"

namespace topiary::arch {

class GraphBuilder {
 public:
  GraphBuilder(std::string graphName, uint64_t seed, int64_t opset = 13);

  // Declares a float input [N, dims...] with the symbolic batch "N".
  std::string input(const std::string& name, const std::vector<int64_t>& dimsAfterBatch);

  // Initializers. He/Kaiming uniform: U(-sqrt(6/fanIn), sqrt(6/fanIn)).
  std::string heUniform(const std::string& name, const Shape& shape, int64_t fanIn);
  std::string constant(const std::string& name, Tensor value);

  // Layers (weights named <layer>.weight / <layer>.bias, BatchNorm
  // <layer>.scale/.bias/.mean/.var).
  std::string conv(const std::string& x, const std::string& name, int64_t inC, int64_t outC, int64_t kernel,
                   int64_t stride = 1, int64_t pad = 0, int64_t groups = 1, bool bias = true);
  std::string batchNorm(const std::string& x, const std::string& name, int64_t channels, float epsilon = 1e-5f,
                        float momentum = 0.9f);
  std::string gemm(const std::string& x, const std::string& name, int64_t in, int64_t out);
  std::string maxPool(const std::string& x, const std::string& name, int64_t kernel, int64_t stride, int64_t pad = 0);
  std::string averagePool(const std::string& x, const std::string& name, int64_t kernel, int64_t stride);
  std::string globalAveragePool(const std::string& x, const std::string& name);
  std::string flatten(const std::string& x, const std::string& name);
  std::string relu(const std::string& x, const std::string& name);
  std::string hardSwish(const std::string& x, const std::string& name);
  std::string hardSigmoid(const std::string& x, const std::string& name, float alpha = 1.f / 6.f, float beta = 0.5f);
  std::string add(const std::string& a, const std::string& b, const std::string& name);
  std::string mul(const std::string& a, const std::string& b, const std::string& name);

  // Any node; returns its first output (named after the node).
  std::string node(const std::string& opType, const std::string& name, const std::vector<std::string>& inputs,
                   std::map<std::string, Attribute> attrs = {}, int outputs = 1);

  // Declares `x` as a graph output [N, dims...] (renaming the tensor to
  // `name` by rewriting its producer).
  void output(const std::string& x, const std::string& name, const std::vector<int64_t>& dimsAfterBatch);

  // Validates and returns the graph.
  Result<Graph> finish();
  Graph& graph() { return g_; }

 private:
  std::string uniqueNodeName(const std::string& base);
  float uniform();  // [0, 1), identical on every standard library

  Graph g_;
  std::mt19937_64 rng_;
};

}  // namespace topiary::arch
