#include "optimize/squeeze_excite_fusion.h"

#include <algorithm>

#include "kernels/activation.h"
#include "optimize/graph_queries.h"

namespace topiary::optimize {

namespace {

bool defaultDomain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool allEqual(const std::vector<int64_t>& v, int64_t value) {
  return std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == value; });
}

// A Conv that maps a [N, Cin, 1, ...] tensor to [N, Cout, 1, ...] as a
// matrix-vector product: 1x1 taps, group 1, no padding, bias absent or a
// float initializer of Cout values, nothing else fused but an activation.
// Returns its weights, or null.
const Tensor* pointwiseWeights(const Graph& g, const Node& c) {
  if (c.opType != "Conv" || !defaultDomain(c) || c.outputs.size() != 1 || c.inputs.size() < 2 ||
      c.inputs.size() > 3 || c.hasAttr("topiary.residual") || c.hasAttr("topiary.dynamic_skip"))
    return nullptr;
  const Tensor* W = floatInit(g, c.input(1));
  if (!W || W->rank() < 3 || c.attrInt("group", 1) != 1) return nullptr;
  for (int64_t d = 2; d < W->rank(); ++d)
    if (W->dim(d) != 1) return nullptr;
  if (!allEqual(c.attrInts("pads"), 0)) return nullptr;
  const std::string autoPad = c.attrString("auto_pad", "NOTSET");
  if (autoPad != "NOTSET" && autoPad != "VALID") return nullptr;
  if (!c.input(2).empty()) {
    const Tensor* B = floatInit(g, c.input(2));
    if (!B || B->numel() != W->dim(0)) return nullptr;
  }
  return W;
}

}  // namespace

int fuseSqueezeExcite(Graph& g, std::vector<std::string>& log) {
  std::vector<bool> removed(g.nodes.size(), false);
  int fused = 0;
  for (size_t mi = 0; mi < g.nodes.size(); ++mi) {
    Node& m = g.nodes[mi];
    if (m.opType != "Mul" || !defaultDomain(m) || m.inputs.size() != 2 || m.outputs.size() != 1 ||
        m.hasAttr("broadcast") || m.hasAttr("axis") || m.inputs[0] == m.inputs[1])
      continue;
    for (int k = 0; k < 2; ++k) {
      const std::string gate = m.inputs[static_cast<size_t>(k)];  // copies: m.inputs is rewritten below
      const std::string x = m.inputs[static_cast<size_t>(1 - k)];
      const int i2 = g.producerOf(gate);
      if (i2 < 0 || removed[static_cast<size_t>(i2)] || soleConsumer(g, gate) != static_cast<int>(mi)) continue;
      const Node& c2 = g.nodes[static_cast<size_t>(i2)];
      const Tensor* W2 = pointwiseWeights(g, c2);
      const int i1 = W2 ? g.producerOf(c2.input(0)) : -1;
      if (i1 < 0 || soleConsumer(g, c2.input(0)) != i2) continue;
      const Node& c1 = g.nodes[static_cast<size_t>(i1)];
      const Tensor* W1 = pointwiseWeights(g, c1);
      const int ip = W1 ? g.producerOf(c1.input(0)) : -1;
      if (ip < 0 || soleConsumer(g, c1.input(0)) != i1) continue;
      const Node& pool = g.nodes[static_cast<size_t>(ip)];
      if (pool.opType != "GlobalAveragePool" || !defaultDomain(pool) || pool.input(0) != x ||
          pool.outputs.size() != 1)
        continue;
      // [Cr, C, 1..] then [C, Cr, 1..], both of the same rank.
      if (W1->rank() != W2->rank() || W2->dim(0) != W1->dim(1) || W2->dim(1) != W1->dim(0)) continue;
      kernels::Activation a1, a2;
      if (!kernels::Activation::fromNode(c1, a1).isOk() || !kernels::Activation::fromNode(c2, a2).isOk()) continue;
      const std::string chain = pool.label() + ", " + c1.label() + ", " + c2.label();
      m.inputs = {x, c1.input(1), c1.input(2), c2.input(1), c2.input(2)};
      m.attrs["topiary.squeeze_excite"] = Attribute::ofInt(1);
      a1.toNode(m, "topiary.se_act1");
      a2.toNode(m, "topiary.se_act2");
      for (int r : {ip, i1, i2}) {
        removed[static_cast<size_t>(r)] = true;
        g.nodes[static_cast<size_t>(r)].inputs.clear();  // so consumersOf/producerOf forget it
        g.nodes[static_cast<size_t>(r)].outputs.clear();
      }
      log.push_back(m.label() + ": fused squeeze-excite " + chain);
      ++fused;
      break;
    }
  }
  std::vector<Node> kept;
  kept.reserve(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(kept);
  return fused;
}

}  // namespace topiary::optimize
