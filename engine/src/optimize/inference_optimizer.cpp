#include "optimize/inference_optimizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/activation.h"
#include "optimize/channels_last.h"
#include "optimize/graph_queries.h"
#include "optimize/squeeze_excite_fusion.h"

namespace topiary::optimize {

namespace {

// Only the first output used: training-mode BatchNorm outputs must be absent.
bool onlyFirstOutput(const Graph& g, const Node& n) {
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty() && (!g.consumersOf(n.outputs[i]).empty() || g.isGraphOutput(n.outputs[i]))) return false;
  return true;
}

// Folds BN (node b) into Conv (node c). False when a precondition fails.
bool foldBatchNorm(Graph& g, size_t c, size_t b) {
  Node& conv = g.nodes[c];
  const Node& bn = g.nodes[b];
  if (bn.inputs.size() < 5 || !onlyFirstOutput(g, bn) || bn.attrInt("training_mode", 0) != 0) return false;
  const Tensor* W = floatInit(g, conv.input(1));
  const Tensor* scale = floatInit(g, bn.input(1));
  const Tensor* shift = floatInit(g, bn.input(2));
  const Tensor* mean = floatInit(g, bn.input(3));
  const Tensor* var = floatInit(g, bn.input(4));
  if (!W || !scale || !shift || !mean || !var || W->rank() < 3) return false;
  const int64_t co = W->dim(0), per = W->numel() / std::max<int64_t>(1, co);
  if (scale->numel() != co || shift->numel() != co || mean->numel() != co || var->numel() != co) return false;
  const Tensor* B = conv.input(2).empty() ? nullptr : floatInit(g, conv.input(2));
  if (!conv.input(2).empty() && (!B || B->numel() != co)) return false;
  const float eps = bn.attrFloat("epsilon", 1e-5f);
  Tensor w2 = *W;
  Tensor b2(DType::Float, {co});
  for (int64_t o = 0; o < co; ++o) {
    const float s = scale->f()[o] / std::sqrt(var->f()[o] + eps);
    for (int64_t i = 0; i < per; ++i) w2.f()[o * per + i] *= s;
    b2.f()[o] = ((B ? B->f()[o] : 0.f) - mean->f()[o]) * s + shift->f()[o];
  }
  std::string wName = g.uniqueName(conv.input(1) + ".bnfold");
  g.initializers[wName] = std::move(w2);
  std::string bName = g.uniqueName(bn.name.empty() ? conv.input(1) + ".bnbias" : bn.name + ".bias_folded");
  g.initializers[bName] = std::move(b2);
  conv.inputs.resize(3);
  conv.inputs[1] = wName;
  conv.inputs[2] = bName;
  conv.outputs[0] = bn.outputs[0];
  return true;
}

// The activation node `a` as a fusable Activation; false when not fusable.
bool asActivation(const Graph& g, const Node& a, kernels::Activation& act) {
  using K = kernels::Activation::Kind;
  if (!a.domain.empty() && a.domain != "ai.onnx") return false;
  if (a.outputs.size() != 1) return false;
  act = kernels::Activation{};
  if (a.opType == "Relu")
    act.kind = K::Relu;
  else if (a.opType == "LeakyRelu")
    act = {K::LeakyRelu, a.attrFloat("alpha", 0.01f), 0.f};
  else if (a.opType == "HardSigmoid")
    act = {K::HardSigmoid, a.attrFloat("alpha", 0.2f), a.attrFloat("beta", 0.5f)};
  else if (a.opType == "HardSwish")
    act.kind = K::HardSwish;
  else if (a.opType == "Clip") {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (g.opset() < 11) {
      lo = a.attrFloat("min", lo);
      hi = a.attrFloat("max", hi);
    } else {
      for (size_t i = 1; i < 3; ++i) {
        if (a.input(i).empty()) continue;
        const Tensor* t = floatInit(g, a.input(i));
        if (!t || t->numel() != 1) return false;
        (i == 1 ? lo : hi) = t->f()[0];
      }
    }
    act = {K::Clip, lo, hi};
  } else {
    return false;
  }
  return true;
}

// Run-time channel skipping (ops/nn/conv_dynamic.h) where it is defined:
// not on the image itself (no silent channels to find), not on grouped
// convolutions whose groups mix several channels.
void markDynamicSkip(const Graph& g, Node& conv, float threshold, std::vector<std::string>& log) {
  const Tensor* W = floatInit(g, conv.input(1));
  const int64_t group = conv.attrInt("group", 1);
  std::string why;
  if (std::any_of(g.inputs.begin(), g.inputs.end(), [&](const ValueInfo& v) { return v.name == conv.input(0); }))
    why = "reads the graph input";
  else if (!W || W->rank() < 3)
    why = "weights are not a float initializer";
  else if (group > 1 && (W->dim(1) != 1 || W->rank() != 4))
    why = W->dim(1) != 1 ? "grouped convolution (only group 1 and depthwise skip)" : "depthwise but not 2-D";
  if (!why.empty()) {
    log.push_back(conv.label() + ": no run-time channel skipping (" + why + ")");
    return;
  }
  conv.attrs["topiary.dynamic_skip"] = Attribute::ofFloat(threshold);
  log.push_back(conv.label() + ": run-time channel skipping, threshold " + std::to_string(threshold));
}

}  // namespace

Result<Graph> optimizeForInference(const Graph& source, std::vector<std::string>& log, float dynamicSkipThreshold) {
  Graph g = source;
  std::vector<bool> removed(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (removed[i]) continue;
    Node& n = g.nodes[i];
    const bool conv = n.opType == "Conv", gemm = n.opType == "Gemm";
    if ((!conv && !gemm) || (!n.domain.empty() && n.domain != "ai.onnx") || n.outputs.size() != 1) continue;
    if (!floatInit(g, n.input(1))) continue;  // weights computed at run time: leave alone
    if (conv) {
      int b = soleConsumer(g, n.outputs[0]);
      if (b >= 0 && g.nodes[static_cast<size_t>(b)].opType == "BatchNormalization" &&
          !removed[static_cast<size_t>(b)] && foldBatchNorm(g, i, static_cast<size_t>(b))) {
        log.push_back(n.label() + ": folded " + g.nodes[static_cast<size_t>(b)].label() + " into the weights");
        removed[static_cast<size_t>(b)] = true;
        g.nodes[static_cast<size_t>(b)].outputs.clear();  // so consumersOf/producerOf forget it
        g.nodes[static_cast<size_t>(b)].inputs.clear();
      }
    }
    if (conv) {
      // Conv -> Add(conv, r): r is added in the conv's output pass when it is
      // ready by then (produced earlier, or a graph input). Of two convs
      // feeding one Add, the later one takes it.
      int ad = soleConsumer(g, g.nodes[i].outputs[0]);
      if (ad >= 0 && !removed[static_cast<size_t>(ad)]) {
        Node& add = g.nodes[static_cast<size_t>(ad)];
        const bool plainAdd = add.opType == "Add" && (add.domain.empty() || add.domain == "ai.onnx") &&
                              add.inputs.size() == 2 && add.outputs.size() == 1 && add.inputs[0] != add.inputs[1];
        const std::string other =
            plainAdd ? (add.inputs[0] == g.nodes[i].outputs[0] ? add.inputs[1] : add.inputs[0]) : "";
        const int prod = other.empty() ? -1 : g.producerOf(other);
        const bool ready = !other.empty() && !g.isInitializer(other) && prod < static_cast<int>(i) &&
                           (prod >= 0 || std::any_of(g.inputs.begin(), g.inputs.end(),
                                                     [&](const ValueInfo& v) { return v.name == other; }));
        if (ready) {
          Node& c = g.nodes[i];
          c.inputs.resize(4);
          c.inputs[3] = other;
          c.outputs[0] = add.outputs[0];
          c.attrs["topiary.residual"] = Attribute::ofInt(1);
          log.push_back(c.label() + ": fused " + add.label() + " (residual " + other + ")");
          removed[static_cast<size_t>(ad)] = true;
          add.outputs.clear();
          add.inputs.clear();
        }
      }
    }
    int a = soleConsumer(g, g.nodes[i].outputs[0]);
    kernels::Activation act;
    if (a >= 0 && !removed[static_cast<size_t>(a)] && asActivation(g, g.nodes[static_cast<size_t>(a)], act)) {
      Node& an = g.nodes[static_cast<size_t>(a)];
      g.nodes[i].outputs[0] = an.outputs[0];
      act.toNode(g.nodes[i]);
      log.push_back(g.nodes[i].label() + ": fused " + an.label() + " (" + act.name() + ")");
      removed[static_cast<size_t>(a)] = true;
      an.outputs.clear();
      an.inputs.clear();
    }
    // Flatten(axis 1) -> Gemm: the Gemm reads the Flatten's input as [N, rest]
    // (the same bytes), so the copy goes.
    const int f = gemm && g.nodes[i].attrInt("transA", 0) == 0 ? g.producerOf(g.nodes[i].inputs[0]) : -1;
    if (f >= 0 && !removed[static_cast<size_t>(f)] && soleConsumer(g, g.nodes[i].inputs[0]) == static_cast<int>(i)) {
      Node& fl = g.nodes[static_cast<size_t>(f)];
      if (fl.opType == "Flatten" && (fl.domain.empty() || fl.domain == "ai.onnx") && fl.attrInt("axis", 1) == 1 &&
          fl.inputs.size() == 1 && fl.outputs.size() == 1) {
        g.nodes[i].inputs[0] = fl.inputs[0];
        g.nodes[i].attrs["topiary.flatten_a"] = Attribute::ofInt(1);
        log.push_back(g.nodes[i].label() + ": reads " + fl.label() + "'s input in place (no Flatten copy)");
        removed[static_cast<size_t>(f)] = true;
        fl.outputs.clear();
        fl.inputs.clear();
      }
    }
    g.nodes[i].attrs["topiary.frozen"] = Attribute::ofInt(1);
    // A Gemm's C that is an initializer too: its kernel keeps C's packed form.
    if (gemm && g.nodes[i].inputs.size() > 2 && !g.nodes[i].inputs[2].empty() && floatInit(g, g.nodes[i].inputs[2]))
      g.nodes[i].attrs["topiary.constant_bias"] = Attribute::ofInt(1);
    if (conv && dynamicSkipThreshold >= 0) markDynamicSkip(g, g.nodes[i], dynamicSkipThreshold, log);
  }
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  // Needs the activations fused into the squeeze-excite Convs first. Not with
  // run-time skipping, which works on those Convs separately.
  if (dynamicSkipThreshold < 0) fuseSqueezeExcite(g, log);
  markChannelsLast(g, log);  // last: it needs the final nodes (optimize/channels_last.h)
  // Initializers only the removed BatchNorms or the replaced weights read can go.
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    bool used = g.isGraphOutput(it->first);
    for (const auto& n : g.nodes)
      for (const auto& in : n.inputs) used |= in == it->first;
    it = used ? std::next(it) : g.initializers.erase(it);
  }
  return g;
}

}  // namespace topiary::optimize
