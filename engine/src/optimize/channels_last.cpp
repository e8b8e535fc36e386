#include "optimize/channels_last.h"

#include <algorithm>

#include "kernels/sparse_matrix.h"
#include "optimize/graph_queries.h"

namespace topiary::optimize {

namespace {

// Weights this sparse or sparser stay NCHW (see kindOf()).
constexpr double kMaxSparseDensity = 0.25;

enum class Kind { None, Depthwise, Pointwise, SingleInput, SqueezeExcite };

bool defaultDomain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool allEqual(const std::vector<int64_t>& v, int64_t value) {
  return std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == value; });
}

Kind kindOf(const Graph& g, const Node& n) {
  if (!defaultDomain(n) || n.outputs.size() != 1 || n.inputs.empty()) return Kind::None;
  if (n.opType == "Mul" && n.attrInt("topiary.squeeze_excite", 0) != 0) {
    const Tensor* W2 = n.inputs.size() > 3 ? floatInit(g, n.input(3)) : nullptr;
    return W2 && W2->rank() == 4 && W2->dim(0) % 16 == 0 ? Kind::SqueezeExcite : Kind::None;
  }
  if (n.opType != "Conv" || n.attrInt("topiary.frozen", 0) == 0 || n.hasAttr("topiary.residual") ||
      n.hasAttr("topiary.dynamic_skip") || n.inputs.size() < 2 || n.inputs.size() > 3)
    return Kind::None;
  const Tensor* W = floatInit(g, n.input(1));
  if (!W || W->rank() != 4 || W->dim(0) % 16 != 0 || W->dim(0) == 0) return Kind::None;
  if (!n.input(2).empty()) {
    const Tensor* B = floatInit(g, n.input(2));
    if (!B || B->numel() != W->dim(0)) return Kind::None;
  }
  const int64_t group = n.attrInt("group", 1);
  if (W->dim(1) == 1 && group == W->dim(0)) return Kind::Depthwise;  // Cin = group = Cout
  // Very sparse weights keep the NCHW Conv, which may pick a sparse kernel
  // for them (the channels-last kernels are dense). At 2:4 (50%) the dense
  // channels-last 1x1 kernel beats the NCHW sparse ones on mobilenet-tiny
  // (the region's other layers gain too); at 90% pruned the sparse kernels win.
  if (kernels::density(W->f(), W->numel()) <= kMaxSparseDensity) return Kind::None;
  const std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (group == 1 && W->dim(2) == 1 && W->dim(3) == 1 && allEqual(n.attrInts("strides"), 1) &&
      allEqual(n.attrInts("pads"), 0) && (autoPad == "NOTSET" || autoPad == "VALID"))
    return Kind::Pointwise;
  if (group == 1 && W->dim(1) == 1) return Kind::SingleInput;  // one input channel (a stem): Cin = 1
  return Kind::None;
}

}  // namespace

int markChannelsLast(Graph& g, std::vector<std::string>& log) {
  std::vector<Kind> kind(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) kind[i] = kindOf(g, g.nodes[i]);
  // Candidate tensors as (producer, reader) pairs.
  std::vector<std::pair<int, int>> links;
  std::vector<int> readerOf(g.nodes.size(), -1);  // producer -> reader of its output, when linked
  for (size_t a = 0; a < g.nodes.size(); ++a) {
    if (kind[a] == Kind::None) continue;
    const std::string& t = g.nodes[a].outputs[0];
    const int b = soleConsumer(g, t);
    if (b < 0 || kind[static_cast<size_t>(b)] == Kind::None) continue;
    const Node& reader = g.nodes[static_cast<size_t>(b)];
    if (reader.inputs[0] != t || std::count(reader.inputs.begin(), reader.inputs.end(), t) != 1) continue;
    // Only next to a depthwise or squeeze-excite is there a transpose to save.
    const auto interleaves = [](Kind k) { return k == Kind::Depthwise || k == Kind::SqueezeExcite; };
    if (!interleaves(kind[a]) && !interleaves(kind[static_cast<size_t>(b)])) continue;
    readerOf[a] = b;
  }
  // A squeeze-excite reads and writes in one layout: drop its links until
  // each has both or neither.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t s = 0; s < g.nodes.size(); ++s) {
      if (kind[s] != Kind::SqueezeExcite) continue;
      const int p = g.producerOf(g.nodes[s].inputs[0]);
      const bool in = p >= 0 && readerOf[static_cast<size_t>(p)] == static_cast<int>(s), out = readerOf[s] >= 0;
      if (in == out) continue;
      if (in) readerOf[static_cast<size_t>(p)] = -1;
      if (out) readerOf[s] = -1;
      changed = true;
    }
  }
  int marked = 0;
  for (size_t a = 0; a < g.nodes.size(); ++a) {
    if (readerOf[a] < 0) continue;
    Node& producer = g.nodes[a];
    Node& reader = g.nodes[static_cast<size_t>(readerOf[a])];
    producer.attrs[kind[a] == Kind::SqueezeExcite ? "topiary.nhwc" : "topiary.y_nhwc"] = Attribute::ofInt(1);
    reader.attrs[kind[static_cast<size_t>(readerOf[a])] == Kind::SqueezeExcite ? "topiary.nhwc" : "topiary.x_nhwc"] =
        Attribute::ofInt(1);
    log.push_back(producer.label() + " -> " + reader.label() + ": channels-last " + producer.outputs[0]);
    ++marked;
  }
  return marked;
}

}  // namespace topiary::optimize
