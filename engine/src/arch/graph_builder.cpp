#include "arch/graph_builder.h"

#include <cmath>

namespace topiary::arch {

GraphBuilder::GraphBuilder(std::string graphName, uint64_t seed, int64_t opset) : rng_(seed) {
  g_.name = std::move(graphName);
  g_.opsetImports = {{"", opset}};
  g_.producerName = "topiary";
}

float GraphBuilder::uniform() { return static_cast<float>(static_cast<double>(rng_() >> 11) * 0x1.0p-53); }

std::string GraphBuilder::uniqueNodeName(const std::string& base) {
  if (g_.findNode(base) < 0 && !g_.isInitializer(base) && !g_.info(base)) return base;
  for (int i = 2;; ++i) {
    std::string n = base + "_" + std::to_string(i);
    if (g_.findNode(n) < 0 && !g_.isInitializer(n) && !g_.info(n)) return n;
  }
}

std::string GraphBuilder::input(const std::string& name, const std::vector<int64_t>& dimsAfterBatch) {
  ValueInfo v;
  v.name = name;
  v.dtype = DType::Float;
  v.hasShape = true;
  v.dims.push_back(Dim{-1, "N"});
  for (int64_t d : dimsAfterBatch) v.dims.push_back(Dim{d, ""});
  g_.inputs.push_back(v);
  return name;
}

std::string GraphBuilder::heUniform(const std::string& name, const Shape& shape, int64_t fanIn) {
  Tensor t(DType::Float, shape);
  float bound = std::sqrt(6.f / static_cast<float>(std::max<int64_t>(1, fanIn)));
  float* p = t.f();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = (2.f * uniform() - 1.f) * bound;
  g_.initializers[name] = std::move(t);
  return name;
}

std::string GraphBuilder::constant(const std::string& name, Tensor value) {
  g_.initializers[name] = std::move(value);
  return name;
}

std::string GraphBuilder::node(const std::string& opType, const std::string& name, const std::vector<std::string>& inputs,
                               std::map<std::string, Attribute> attrs, int outputs) {
  Node n;
  n.name = uniqueNodeName(name);
  n.opType = opType;
  n.inputs = inputs;
  n.attrs = std::move(attrs);
  n.outputs.push_back(n.name);
  for (int i = 1; i < outputs; ++i) n.outputs.push_back(n.name + "_" + std::to_string(i));
  g_.nodes.push_back(n);
  return n.name;
}

std::string GraphBuilder::conv(const std::string& x, const std::string& name, int64_t inC, int64_t outC, int64_t kernel,
                               int64_t stride, int64_t pad, int64_t groups, bool bias) {
  std::string n = uniqueNodeName(name);
  int64_t fanIn = inC / groups * kernel * kernel;
  std::vector<std::string> in{x, heUniform(n + ".weight", {outC, inC / groups, kernel, kernel}, fanIn)};
  if (bias) in.push_back(constant(n + ".bias", Tensor(DType::Float, {outC})));
  std::map<std::string, Attribute> a{{"kernel_shape", Attribute::ofInts({kernel, kernel})},
                                     {"strides", Attribute::ofInts({stride, stride})},
                                     {"pads", Attribute::ofInts({pad, pad, pad, pad})}};
  if (groups != 1) a["group"] = Attribute::ofInt(groups);
  return node("Conv", n, in, a);
}

std::string GraphBuilder::batchNorm(const std::string& x, const std::string& name, int64_t channels, float epsilon,
                                    float momentum) {
  std::string n = uniqueNodeName(name);
  Tensor ones(DType::Float, {channels});
  ones.fill(1.f);
  constant(n + ".scale", ones);
  constant(n + ".bias", Tensor(DType::Float, {channels}));
  constant(n + ".mean", Tensor(DType::Float, {channels}));
  constant(n + ".var", ones);
  return node("BatchNormalization", n, {x, n + ".scale", n + ".bias", n + ".mean", n + ".var"},
              {{"epsilon", Attribute::ofFloat(epsilon)}, {"momentum", Attribute::ofFloat(momentum)}});
}

std::string GraphBuilder::gemm(const std::string& x, const std::string& name, int64_t in, int64_t out) {
  std::string n = uniqueNodeName(name);
  // Weight stored [out, in] with transB=1, as PyTorch exports Linear.
  heUniform(n + ".weight", {out, in}, in);
  constant(n + ".bias", Tensor(DType::Float, {out}));
  return node("Gemm", n, {x, n + ".weight", n + ".bias"}, {{"transB", Attribute::ofInt(1)}});
}

std::string GraphBuilder::maxPool(const std::string& x, const std::string& name, int64_t kernel, int64_t stride,
                                  int64_t pad) {
  return node("MaxPool", name, {x},
              {{"kernel_shape", Attribute::ofInts({kernel, kernel})},
               {"strides", Attribute::ofInts({stride, stride})},
               {"pads", Attribute::ofInts({pad, pad, pad, pad})}});
}

std::string GraphBuilder::averagePool(const std::string& x, const std::string& name, int64_t kernel, int64_t stride) {
  return node("AveragePool", name, {x},
              {{"kernel_shape", Attribute::ofInts({kernel, kernel})}, {"strides", Attribute::ofInts({stride, stride})}});
}

std::string GraphBuilder::globalAveragePool(const std::string& x, const std::string& name) {
  return node("GlobalAveragePool", name, {x});
}
std::string GraphBuilder::flatten(const std::string& x, const std::string& name) {
  return node("Flatten", name, {x}, {{"axis", Attribute::ofInt(1)}});
}
std::string GraphBuilder::relu(const std::string& x, const std::string& name) { return node("Relu", name, {x}); }
std::string GraphBuilder::hardSwish(const std::string& x, const std::string& name) {
  return node("HardSwish", name, {x});
}
std::string GraphBuilder::hardSigmoid(const std::string& x, const std::string& name, float alpha, float beta) {
  return node("HardSigmoid", name, {x}, {{"alpha", Attribute::ofFloat(alpha)}, {"beta", Attribute::ofFloat(beta)}});
}
std::string GraphBuilder::add(const std::string& a, const std::string& b, const std::string& name) {
  return node("Add", name, {a, b});
}
std::string GraphBuilder::mul(const std::string& a, const std::string& b, const std::string& name) {
  return node("Mul", name, {a, b});
}

void GraphBuilder::output(const std::string& x, const std::string& name, const std::vector<int64_t>& dimsAfterBatch) {
  if (x != name) {
    for (auto& n : g_.nodes) {
      for (auto& o : n.outputs)
        if (o == x) o = name;
      for (auto& i : n.inputs)
        if (i == x) i = name;
    }
  }
  ValueInfo v;
  v.name = name;
  v.dtype = DType::Float;
  v.hasShape = true;
  v.dims.push_back(Dim{-1, "N"});
  for (int64_t d : dimsAfterBatch) v.dims.push_back(Dim{d, ""});
  g_.outputs.push_back(v);
}

Result<Graph> GraphBuilder::finish() {
  TOPIARY_RETURN_IF_ERROR(g_.validate());
  return g_;
}

}  // namespace topiary::arch
