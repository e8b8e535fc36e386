// Dependency groups: which channels of a graph must be pruned together.
//
// Every activation tensor of rank >= 2 is a "space" of channels (axis 1, the
// features of a rank-2 tensor). Operators that map channel i to channel i
// (Relu, BN, depthwise Conv, residual Add, the SE Mul) merge spaces with a
// union-find. Concat and Flatten instead *derive* their output space from
// their inputs' (at an offset, or H*W features per channel). The classes that
// are not derived are the atoms: one atom is one DependencyGroup, and every
// derived space refers back to atoms through (offset, inner) mappings, so a
// Gemm after Flatten gets a slice "channel c -> rows [c*HW, (c+1)*HW)".
// A Transpose that moves the channel axis to the end (NCHW -> NHWC) makes a
// channels-last tensor (same channels, last axis), and a Flatten of one
// gives the interleaved slice "channel c -> rows c, c + C, c + 2C, ...": the
// Keras Flatten -> Dense that tf2onnx writes. Channels-last tensors are
// traced only through unary per-element ops, a Transpose back and Flatten.
// Anything the table in dependency_table.cpp does not understand locks the
// groups it touches, with a reason naming the node and operator.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "prune/dependency_internal.h"
#include "topiary/dependency.h"
#include "topiary/executor.h"

namespace topiary {

namespace {

int normAxis(int64_t axis, size_t rank) { return static_cast<int>(axis < 0 ? axis + static_cast<int64_t>(rank) : axis); }

class Analyzer {
 public:
  explicit Analyzer(const Graph& g) : g_(g) {}

  std::vector<DependencyGroup> run() {
    for (size_t i = 0; i < g_.nodes.size(); ++i) handleNode(static_cast<int>(i));
    for (const auto& in : g_.inputs) {
      int s = space(in.name);
      if (s >= 0) lock(s, "its channels come from graph input '" + in.name + "', which cannot change shape");
    }
    for (const auto& out : g_.outputs) {
      int s = space(out.name);
      if (s >= 0) lock(s, "tensor '" + out.name + "' is a graph output, whose shape cannot change");
    }
    return assemble();
  }

 private:
  // Channel c of `space` is channels [offset + c*inner, offset + (c+1)*inner)
  // of the derived space, and again `period` further on, `repeat` times.
  struct Seg {
    int space;
    int64_t offset, inner;
    int64_t repeat = 1, period = 0;
  };
  struct Derived {
    int space;
    std::vector<Seg> segs;
    std::string node;
  };
  struct PendingSlice {
    int space;
    ChannelSlice slice;
  };
  struct Mapping {
    int atom;
    int64_t offset, inner;
    int64_t repeat = 1, period = 0;
  };

  const Graph& g_;
  std::map<std::string, int> spaceOf_;
  std::vector<std::string> spaceTensor_;
  std::vector<int64_t> spaceChannels_;
  std::vector<int> parent_;
  std::vector<Derived> derived_;
  std::vector<std::pair<int, std::string>> producers_;   // (output space, node)
  std::vector<std::pair<int, std::string>> consumers_;   // (input space, node)
  std::vector<std::pair<int, std::string>> sources_;     // non-producer origins (opaque, input): space, reason
  std::vector<std::pair<int, std::string>> locks_;
  std::vector<std::pair<int, int>> touches_;              // (space, node index)
  std::vector<PendingSlice> slices_;
  std::vector<std::pair<int, std::string>> attrUpdates_;  // (space, node)
  std::set<std::string> channelsLast_;                    // tensors of rank >= 3 whose channels are the last axis

  bool isChannelsLast(const std::string& name) const { return channelsLast_.count(name) != 0; }

  bool shapeOf(const std::string& name, Shape& s) const {
    auto it = g_.initializers.find(name);
    if (it != g_.initializers.end()) {
      s = it->second.shape();
      return true;
    }
    const ValueInfo* vi = g_.info(name);
    if (!vi || !vi->hasShape) return false;
    s = vi->shape();
    return true;
  }

  // The channel space of an activation tensor, created on first use; -1 for
  // initializers, absent names and tensors without a known channel axis.
  int space(const std::string& name) {
    if (name.empty() || g_.isInitializer(name)) return -1;
    auto it = spaceOf_.find(name);
    if (it != spaceOf_.end()) return it->second;
    Shape s;
    if (!shapeOf(name, s) || s.size() < 2) return -1;
    const int64_t channels = isChannelsLast(name) ? s.back() : s[1];
    if (channels <= 0) return -1;
    int id = static_cast<int>(spaceTensor_.size());
    spaceOf_[name] = id;
    spaceTensor_.push_back(name);
    spaceChannels_.push_back(channels);
    parent_.push_back(id);
    return id;
  }
  int find(int s) {
    while (parent_[static_cast<size_t>(s)] != s) {
      parent_[static_cast<size_t>(s)] = parent_[static_cast<size_t>(parent_[static_cast<size_t>(s)])];
      s = parent_[static_cast<size_t>(s)];
    }
    return s;
  }
  void unite(int a, int b) {
    if (a < 0 || b < 0) return;
    a = find(a);
    b = find(b);
    if (a != b) parent_[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
  void lock(int s, const std::string& reason) {
    if (s >= 0) locks_.emplace_back(s, reason);
  }
  void touch(int s, int node) {
    if (s >= 0) touches_.emplace_back(s, node);
  }
  void addSlice(int s, const Node& n, const std::string& tensor, ChannelSlice::Kind kind, int axis) {
    if (s < 0 || tensor.empty()) return;
    ChannelSlice c;
    c.tensor = tensor;
    c.node = n.label();
    c.kind = kind;
    c.axis = axis;
    slices_.push_back({s, c});
  }
  static std::string who(const Node& n) { return "node '" + n.label() + "' (" + n.opType + ")"; }

  // Locks every data input and marks every output as an untraceable origin.
  void opaque(const Node& n, int idx, const std::string& why) {
    for (const auto& in : n.inputs) {
      int s = space(in);
      touch(s, idx);
      lock(s, who(n) + " reads these channels and " + why);
    }
    for (const auto& out : n.outputs) {
      int s = space(out);
      touch(s, idx);
      if (s >= 0) sources_.emplace_back(s, "produced by " + who(n) + ", whose channel mapping " + why);
      lock(s, "produced by " + who(n) + ", which " + why);
    }
  }

  void handleNode(int idx) {
    const Node& n = g_.nodes[static_cast<size_t>(idx)];
    ChannelRole role = (n.domain.empty() || n.domain == "ai.onnx") ? channelRoleOf(n.opType) : ChannelRole::Opaque;
    switch (role) {
      case ChannelRole::Producer: return producer(n, idx);
      case ChannelRole::Passthrough: return passthrough(n, idx);
      case ChannelRole::Elementwise: return elementwise(n, idx);
      case ChannelRole::Concat: return concat(n, idx);
      case ChannelRole::Reshape: return reshape(n, idx);
      case ChannelRole::Transpose: return transpose(n, idx);
      case ChannelRole::ShapeOnly: return;
      case ChannelRole::Opaque: return opaque(n, idx, "is not understood by the dependency analysis");
    }
  }

  void producer(const Node& n, int idx) {
    const std::string& x = n.input(0);
    const std::string& w = n.input(1);
    const std::string& b = n.input(2);
    int sx = space(x), sy = space(n.outputs.empty() ? std::string() : n.outputs[0]);
    if (!g_.isInitializer(w) || (!b.empty() && !g_.isInitializer(b)) || g_.isInitializer(x))
      return opaque(n, idx, "has a runtime (non-initializer) weight");
    if (isChannelsLast(x)) return opaque(n, idx, "reads a channels-last tensor");
    Shape ws = g_.initializers.at(w).shape();
    touch(sx, idx);
    touch(sy, idx);
    if (n.opType == "Conv") {
      int64_t group = n.attrInt("group", 1);
      int64_t cin = sx >= 0 ? spaceChannels_[static_cast<size_t>(sx)] : -1;
      if (ws.size() < 3 || sx < 0 || sy < 0) return opaque(n, idx, "has shapes the analysis cannot read");
      if (group == 1) {
        consume(sx, n, w, 1);
        produce(sy, n, w, 0, b);
      } else if (group == cin && ws[0] == cin && ws[1] == 1) {
        // Depthwise: channel i in -> channel i out, with its own filter.
        unite(sx, sy);
        addSlice(sx, n, w, ChannelSlice::Kind::Param, 0);
        addSlice(sx, n, b, ChannelSlice::Kind::Param, 0);
        attrUpdates_.emplace_back(sx, n.label());
      } else {
        opaque(n, idx,
               "is a grouped convolution (group=" + std::to_string(group) + ", " + std::to_string(cin) +
                   " input channels) whose channels cannot be removed one at a time");
      }
      return;
    }
    Shape xs;
    if (ws.size() != 2 || !shapeOf(x, xs) || xs.size() != 2 || sx < 0 || sy < 0)
      return opaque(n, idx, "is not a 2-D matrix product");
    if (n.opType == "Gemm") {
      if (n.attrInt("transA", 0) != 0) return opaque(n, idx, "has transA=1");
      bool tb = n.attrInt("transB", 0) != 0;
      consume(sx, n, w, tb ? 1 : 0);
      produce(sy, n, w, tb ? 0 : 1, "");
      if (!b.empty()) {
        Shape bs = g_.initializers.at(b).shape();
        // C broadcasts to [M, N]: sliced on its last axis when that is N.
        if (!bs.empty() && bs.back() == spaceChannels_[static_cast<size_t>(sy)] && bs.back() != 1)
          addSlice(sy, n, b, ChannelSlice::Kind::ProducerOut, static_cast<int>(bs.size()) - 1);
      }
      return;
    }
    consume(sx, n, w, 0);  // MatMul: [M,K] x [K,N]
    produce(sy, n, w, 1, "");
  }
  void consume(int s, const Node& n, const std::string& w, int axis) {
    consumers_.emplace_back(s, n.label());
    addSlice(s, n, w, ChannelSlice::Kind::ConsumerIn, axis);
  }
  void produce(int s, const Node& n, const std::string& w, int axis, const std::string& bias) {
    producers_.emplace_back(s, n.label());
    addSlice(s, n, w, ChannelSlice::Kind::ProducerOut, axis);
    addSlice(s, n, bias, ChannelSlice::Kind::ProducerOut, 0);
  }

  // Axes listed by an attribute or (newer opsets) an initializer input.
  bool axesOf(const Node& n, size_t inputIndex, std::vector<int64_t>& axes, bool& present) const {
    present = false;
    if (n.hasAttr("axes")) {
      axes = n.attrInts("axes");
      present = true;
      return true;
    }
    const std::string& a = n.input(inputIndex);
    if (a.empty()) return true;
    auto it = g_.initializers.find(a);
    if (it == g_.initializers.end()) return false;
    axes = it->second.toInt64s();
    present = true;
    return true;
  }

  // Empty when the op keeps channel i of its input at channel i of its output.
  std::string passthroughProblem(const Node& n, const Shape& in, const Shape& out) const {
    const std::string& op = n.opType;
    if (op.rfind("Reduce", 0) == 0 || op == "Squeeze" || op == "Unsqueeze") {
      std::vector<int64_t> axes;
      bool present = false;
      if (!axesOf(n, 1, axes, present)) return "takes its axes from a runtime tensor";
      if (!present && op != "Unsqueeze") {
        if (op != "Squeeze" && n.attrInt("noop_with_empty_axes", 0) == 0) return "reduces every axis";
        if (op == "Squeeze" && in.size() != out.size()) return "squeezes unspecified axes";
      }
      size_t rank = op == "Unsqueeze" ? out.size() : in.size();
      for (int64_t a : axes)
        if (normAxis(a, rank) <= 1) return "acts on the batch or channel axis";
      return "";
    }
    if (op == "Pad") {
      std::vector<int64_t> pads = n.attrInts("pads");
      if (!n.hasAttr("pads")) {
        auto it = g_.initializers.find(n.input(1));
        if (it == g_.initializers.end()) return "takes its pads from a runtime tensor";
        pads = it->second.toInt64s();
      }
      if (!n.input(3).empty()) return "pads selected axes only";
      size_t r = in.size();
      if (pads.size() != 2 * r) return "has pads of unexpected length";
      if (pads[0] || pads[1] || pads[r] || pads[r + 1]) return "pads the batch or channel axis";
      return "";
    }
    if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
      int64_t def = g_.opset() >= 13 ? -1 : 1;
      if (normAxis(n.attrInt("axis", def), in.size()) <= 1) return "normalizes across channels";
      return "";
    }
    if (op == "Clip") {
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        Shape s;
        if (!n.inputs[i].empty() && shapeOf(n.inputs[i], s) && numelOf(s) != 1) return "has non-scalar bounds";
      }
    }
    return "";
  }

  // Per-element ops with no parameter and no axis: the same on any layout.
  static bool layoutFree(const Node& n) {
    static const std::set<std::string> ops = {
        "Relu",  "LeakyRelu", "Elu",      "Selu",     "Celu",    "Sigmoid", "HardSigmoid", "HardSwish",
        "Tanh",  "Softplus",  "Softsign", "Gelu",     "Mish",    "Abs",     "Neg",         "Exp",
        "Erf",   "Clip",      "Cast",     "Identity", "Dropout", "Sqrt",    "Log",         "Reciprocal",
        "Floor", "Ceil",      "Round",    "Sign",     "Sin",     "Cos",     "Tan",         "Sinh",
        "Cosh",  "Asin",      "Acos",     "Atan",     "Asinh",   "Acosh",   "Atanh",       "ThresholdedRelu",
        "Shrink"};
    return ops.count(n.opType) != 0;
  }

  void passthrough(const Node& n, int idx) {
    if (isChannelsLast(n.input(0))) {
      if (!layoutFree(n)) return opaque(n, idx, "acts on a channels-last tensor");
      for (const auto& o : n.outputs) channelsLast_.insert(o);  // before space() sizes them
    }
    int sx = space(n.input(0));
    Shape in, out;
    if (n.outputs.empty() || !shapeOf(n.input(0), in) || !shapeOf(n.outputs[0], out)) {
      // Rank < 2 on both sides carries no channels; otherwise be safe.
      if (sx >= 0) opaque(n, idx, "has an output of unknown shape");
      return;
    }
    int sy = space(n.outputs[0]);
    if (sx < 0 && sy < 0) return;
    std::string problem = passthroughProblem(n, in, out);
    if (sx < 0 || sy < 0 || spaceChannels_[static_cast<size_t>(sx)] != spaceChannels_[static_cast<size_t>(sy)])
      problem = problem.empty() ? "changes the channel count" : problem;
    if (!problem.empty()) return opaque(n, idx, problem);
    touch(sx, idx);
    unite(sx, sy);
    // Extra outputs (MaxPool indices, Dropout mask) carry the same channels.
    for (size_t i = 1; i < n.outputs.size(); ++i) {
      int so = space(n.outputs[i]);
      touch(so, idx);
      unite(sx, so);
    }
    size_t firstParam = 0, lastParam = 0;
    if (n.opType == "BatchNormalization") firstParam = 1, lastParam = 4;
    if (n.opType == "InstanceNormalization") firstParam = 1, lastParam = 2;
    for (size_t i = firstParam; i && i <= lastParam; ++i) {
      const std::string& p = n.input(i);
      if (!g_.isInitializer(p)) return opaque(n, idx, "has a runtime (non-initializer) parameter '" + p + "'");
      addSlice(sx, n, p, ChannelSlice::Kind::Param, 0);
    }
  }

  void elementwise(const Node& n, int idx) {
    if (n.outputs.empty()) return;
    for (const auto& in : n.inputs)
      if (isChannelsLast(in)) return opaque(n, idx, "combines a channels-last tensor");
    int so = space(n.outputs[0]);
    Shape out;
    if (so < 0) {
      for (const auto& in : n.inputs)
        if (space(in) >= 0) return opaque(n, idx, "has an output of unknown shape");
      return;
    }
    shapeOf(n.outputs[0], out);
    touch(so, idx);
    int64_t c = out[1];
    int rank = static_cast<int>(out.size());
    for (const auto& in : n.inputs) {
      Shape s;
      if (in.empty()) continue;
      if (!shapeOf(in, s)) return opaque(n, idx, "has an input of unknown shape");
      int k = 1 - (rank - static_cast<int>(s.size()));  // the input axis aligned with channels
      bool perChannel = k >= 0 && k < static_cast<int>(s.size()) && s[static_cast<size_t>(k)] != 1;
      if (!perChannel) continue;  // broadcast over channels: no coupling
      if (s[static_cast<size_t>(k)] != c) return opaque(n, idx, "broadcasts channels in an unexpected way");
      if (g_.isInitializer(in)) {
        addSlice(so, n, in, ChannelSlice::Kind::Param, k);
      } else if (k == 1) {
        int si = space(in);
        touch(si, idx);
        unite(si, so);
      } else {
        return opaque(n, idx, "combines tensors of different ranks on the channel axis");
      }
    }
  }

  void concat(const Node& n, int idx) {
    if (n.outputs.empty()) return;
    for (const auto& in : n.inputs)
      if (isChannelsLast(in)) return opaque(n, idx, "concatenates a channels-last tensor");
    int so = space(n.outputs[0]);
    if (so < 0) {
      for (const auto& in : n.inputs)
        if (space(in) >= 0) return opaque(n, idx, "has an output of unknown shape");
      return;  // shape arithmetic on rank-1 tensors
    }
    Shape out;
    shapeOf(n.outputs[0], out);
    int axis = normAxis(n.attrInt("axis", 1), out.size());
    touch(so, idx);
    Derived d{so, {}, n.label()};
    int64_t offset = 0;
    for (const auto& in : n.inputs) {
      int si = space(in);
      if (si < 0) return opaque(n, idx, "concatenates a constant or a tensor of unknown shape");
      touch(si, idx);
      if (axis == 1) {
        d.segs.push_back({si, offset, 1});
        offset += spaceChannels_[static_cast<size_t>(si)];
      } else {
        unite(si, so);  // along another axis every input shares the channels
      }
    }
    if (axis == 1 && d.segs.size() == 1) unite(d.segs[0].space, so);
    else if (axis == 1) derived_.push_back(d);
  }

  // NCHW <-> NHWC: the same channels on another axis. Anything else that
  // moves the channel axis cannot be traced.
  void transpose(const Node& n, int idx) {
    const std::string& x = n.input(0);
    Shape in;
    if (n.outputs.empty() || !shapeOf(x, in)) {
      if (space(x) >= 0) opaque(n, idx, "has an input of unknown shape");
      return;
    }
    const int64_t r = static_cast<int64_t>(in.size());
    std::vector<int64_t> perm = n.attrInts("perm");
    if (perm.empty())
      for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
    bool identity = static_cast<int64_t>(perm.size()) == r, toLast = r >= 3 && identity, toFirst = toLast;
    for (int64_t i = 0; i < static_cast<int64_t>(perm.size()); ++i) {
      identity &= perm[static_cast<size_t>(i)] == i;
      // [0, 2, 3, .., r-1, 1] and its inverse [0, r-1, 1, .., r-2]
      const int64_t last = i == 0 ? 0 : i == r - 1 ? 1 : i + 1, first = i == 0 ? 0 : i == 1 ? r - 1 : i - 1;
      toLast &= perm[static_cast<size_t>(i)] == last;
      toFirst &= perm[static_cast<size_t>(i)] == first;
    }
    const std::string& y = n.outputs[0];
    const bool xLast = isChannelsLast(x);
    if ((identity && xLast) || (toLast && !xLast)) channelsLast_.insert(y);  // before space() sizes it
    int sx = space(x), sy = space(y);
    if (sx < 0 && sy < 0) return;
    if (sx < 0 || sy < 0 || !(identity || (toLast && !xLast) || (toFirst && xLast)))
      return opaque(n, idx, "moves the channel axis in a way the analysis cannot trace");
    touch(sx, idx);
    touch(sy, idx);
    unite(sx, sy);
  }

  // A channels-last tensor [N, ..., C] flattened to [N, rest]: channel c is
  // features c, c + C, c + 2C, ...
  void flattenChannelsLast(const Node& n, int idx) {
    Shape in, out;
    int sx = space(n.input(0));
    if (n.outputs.empty() || !shapeOf(n.input(0), in) || !shapeOf(n.outputs[0], out) || sx < 0)
      return opaque(n, idx, "has an output of unknown shape");
    const bool isReshape = n.opType == "Reshape";
    if (isReshape && n.attrInt("allowzero", 0) != 0) return opaque(n, idx, "has allowzero=1");
    int64_t spatial = 1;
    for (size_t i = 1; i + 1 < in.size(); ++i) spatial = in[i] > 0 && spatial > 0 ? spatial * in[i] : -1;
    const int64_t C = in.back();
    int sy = space(n.outputs[0]);
    const bool flattens = sy >= 0 && out.size() == 2 && out[0] == in[0] && spatial > 0 && out[1] == spatial * C &&
                          (isReshape || n.attrInt("axis", 1) == 1);
    if (!flattens) return opaque(n, idx, "reshapes a channels-last tensor in a way the analysis cannot trace");
    touch(sx, idx);
    touch(sy, idx);
    if (spatial == 1)
      unite(sx, sy);
    else
      derived_.push_back({sy, {{sx, 0, 1, spatial, C}}, n.label()});
    if (isReshape) attrUpdates_.emplace_back(sy, n.label());
  }

  void reshape(const Node& n, int idx) {
    if (isChannelsLast(n.input(0))) return flattenChannelsLast(n, idx);
    int sx = space(n.input(0));
    Shape in, out;
    if (n.outputs.empty() || !shapeOf(n.input(0), in) || !shapeOf(n.outputs[0], out)) {
      if (sx >= 0) opaque(n, idx, "has an output of unknown shape");
      return;
    }
    int sy = space(n.outputs[0]);
    if (sx < 0) {
      if (sy >= 0) opaque(n, idx, "turns a tensor without channels into one with channels");
      return;
    }
    if (n.opType == "Reshape" && n.attrInt("allowzero", 0) != 0) return opaque(n, idx, "has allowzero=1");
    touch(sx, idx);
    touch(sy, idx);
    bool isReshape = n.opType == "Reshape";
    if (in == out && sy >= 0) {
      unite(sx, sy);
      if (isReshape) attrUpdates_.emplace_back(sx, n.label());
      return;
    }
    int64_t inner = 1;
    for (size_t i = 2; i < in.size(); ++i) inner = in[i] > 0 && inner > 0 ? inner * in[i] : -1;
    bool flattensTrailing = sy >= 0 && out.size() == 2 && out[0] == in[0] && inner > 0 && out[1] == in[1] * inner &&
                            (isReshape || n.attrInt("axis", 1) == 1);
    if (!flattensTrailing) return opaque(n, idx, "reshapes channels in a way the analysis cannot trace");
    if (inner == 1) {
      unite(sx, sy);  // [N,C,1,1] -> [N,C]: the same channels
    } else {
      derived_.push_back({sy, {{sx, 0, inner}}, n.label()});
    }
    if (isReshape) attrUpdates_.emplace_back(sy, n.label());
  }

  std::vector<DependencyGroup> assemble();
};

std::vector<DependencyGroup> Analyzer::assemble() {
  const int nSpaces = static_cast<int>(spaceTensor_.size());
  // Classes: derived definitions, origins, consistency of channel counts.
  std::map<int, std::vector<const Derived*>> derivedOf;
  for (const auto& d : derived_) derivedOf[find(d.space)].push_back(&d);
  std::map<int, std::vector<std::string>> lockOf;
  for (const auto& l : locks_) lockOf[find(l.first)].push_back(l.second);
  std::set<int> hasOrigin;
  for (const auto& p : producers_) hasOrigin.insert(find(p.first));
  for (const auto& s : sources_) hasOrigin.insert(find(s.first));
  for (const auto& in : g_.inputs)
    if (spaceOf_.count(in.name)) hasOrigin.insert(find(spaceOf_.at(in.name)));
  for (int s = 0; s < nSpaces; ++s) {
    int r = find(s);
    if (spaceChannels_[static_cast<size_t>(s)] != spaceChannels_[static_cast<size_t>(r)])
      lockOf[r].push_back("tensors '" + spaceTensor_[static_cast<size_t>(s)] + "' and '" +
                          spaceTensor_[static_cast<size_t>(r)] + "' are coupled but have different channel counts");
  }
  // A class defined both by a Concat/Flatten and by something else (a
  // producer, a second Concat) would need per-segment matching: it becomes
  // its own locked atom and locks what it derives from.
  std::set<int> atoms;
  std::set<int> conflicted;
  for (int s = 0; s < nSpaces; ++s) {
    int r = find(s);
    auto it = derivedOf.find(r);
    if (it == derivedOf.end()) {
      atoms.insert(r);
    } else if (it->second.size() > 1 || hasOrigin.count(r)) {
      atoms.insert(r);
      conflicted.insert(r);
    }
  }
  std::map<int, std::vector<Mapping>> memo;
  std::set<int> visiting;
  std::vector<std::pair<int, std::string>> compositionLocks;  // (atom, why)
  std::function<const std::vector<Mapping>&(int)> mappings = [&](int r) -> const std::vector<Mapping>& {
    auto m = memo.find(r);
    if (m != memo.end()) return m->second;
    std::vector<Mapping> out;
    if (atoms.count(r) || visiting.count(r)) {
      out.push_back({r, 0, 1});
    } else {
      visiting.insert(r);
      const Derived* d = derivedOf.at(r).front();
      for (const Seg& seg : d->segs)
        for (const Mapping& src : mappings(find(seg.space))) {
          // Atom channel a is src's runs [src.offset + a*src.inner, + src.inner) (+ k*src.period),
          // each channel of which seg maps to [seg.offset + ch*seg.inner, + seg.inner) (+ k*seg.period).
          Mapping m{src.atom, seg.offset + src.offset * seg.inner, src.inner * seg.inner};
          if (seg.repeat > 1 && src.repeat > 1) {
            compositionLocks.emplace_back(src.atom,
                                          "node '" + d->node + "' interleaves channels that are already interleaved");
          } else if (seg.repeat > 1) {
            m.repeat = seg.repeat;
            m.period = seg.period;
          } else if (src.repeat > 1) {
            m.repeat = src.repeat;
            m.period = src.period * seg.inner;
          }
          out.push_back(m);
        }
      visiting.erase(r);
    }
    return memo[r] = out;
  };
  for (int r : conflicted) {
    const Derived* d = derivedOf.at(r).front();
    std::string why = "channels of '" + spaceTensor_[static_cast<size_t>(r)] + "' are combined by node '" + d->node +
                      "' with other channels in a way the analysis cannot split";
    lockOf[r].push_back(why);
    for (const auto* def : derivedOf.at(r))
      for (const Seg& seg : def->segs)
        for (const Mapping& m : mappings(find(seg.space))) lockOf[m.atom].push_back(why);
  }

  std::map<int, DependencyGroup> groups;
  std::map<int, std::set<int>> memberNodes;
  auto atomsOf = [&](int s) { return mappings(find(s)); };
  for (int a : atoms) {
    DependencyGroup& gr = groups[a];
    gr.channels = spaceChannels_[static_cast<size_t>(a)];
  }
  for (int s = 0; s < nSpaces; ++s)
    if (atoms.count(find(s))) groups[find(s)].tensors.push_back(spaceTensor_[static_cast<size_t>(s)]);
  for (const auto& t : touches_)
    for (const Mapping& m : atomsOf(t.first)) memberNodes[m.atom].insert(t.second);
  for (const auto& p : producers_)
    for (const Mapping& m : atomsOf(p.first)) groups[m.atom].producers.push_back(p.second);
  for (const auto& c : consumers_)
    for (const Mapping& m : atomsOf(c.first)) groups[m.atom].consumers.push_back(c.second);
  for (const auto& u : attrUpdates_)
    for (const Mapping& m : atomsOf(u.first)) groups[m.atom].attrUpdates.push_back(u.second);
  for (const auto& ps : slices_)
    for (const Mapping& m : atomsOf(ps.space)) {
      ChannelSlice c = ps.slice;
      c.offset = ps.slice.offset + m.offset * ps.slice.inner;
      c.inner = ps.slice.inner * m.inner;
      c.repeat = m.repeat;
      c.period = m.period * ps.slice.inner;
      groups[m.atom].slices.push_back(c);
    }
  for (const auto& l : compositionLocks) lockOf[l.first].push_back(l.second);
  for (auto& l : lockOf)
    for (const Mapping& m : mappings(l.first))
      for (const auto& why : l.second) {
        DependencyGroup& gr = groups[m.atom];
        if (!gr.locked) gr.lockReason = why;
        gr.locked = true;
      }

  // Initializers read by other nodes too (weight sharing) cannot be cut for one reader.
  std::map<std::string, std::set<std::string>> readers;
  for (const auto& n : g_.nodes)
    for (const auto& in : n.inputs)
      if (g_.isInitializer(in)) readers[in].insert(n.label());

  std::vector<std::pair<int, DependencyGroup>> ordered;
  for (auto& kv : groups) {
    DependencyGroup& gr = kv.second;
    if (gr.producers.empty() && gr.slices.empty()) continue;  // nothing to prune (e.g. image channels)
    if (gr.producers.empty() && !gr.locked) {
      gr.locked = true;
      gr.lockReason = "no Conv/Gemm/MatMul produces these channels";
    }
    auto dedup = [](std::vector<std::string>& v) {
      std::vector<std::string> out;
      for (auto& s : v)
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
      v = out;
    };
    dedup(gr.producers);
    dedup(gr.consumers);
    dedup(gr.attrUpdates);
    std::vector<ChannelSlice> uniq;
    for (const auto& c : gr.slices) {
      bool dup = std::any_of(uniq.begin(), uniq.end(), [&](const ChannelSlice& u) {
        return u.tensor == c.tensor && u.axis == c.axis && u.offset == c.offset && u.inner == c.inner &&
               u.repeat == c.repeat && u.period == c.period;
      });
      if (!dup) uniq.push_back(c);
      if (!gr.locked && readers[c.tensor].size() > 1) {
        gr.locked = true;
        gr.lockReason = "initializer '" + c.tensor + "' is shared by several nodes";
      }
    }
    gr.slices = uniq;
    int first = INT32_MAX;
    for (int nodeIdx : memberNodes[kv.first]) {
      gr.members.push_back(g_.nodes[static_cast<size_t>(nodeIdx)].label());
      first = std::min(first, nodeIdx);
    }
    // Root: the first producer's output, else the first tensor.
    gr.rootTensor = gr.tensors.empty() ? std::string() : gr.tensors.front();
    if (!gr.producers.empty()) {
      int p = depdetail::findNodeByLabel(g_, gr.producers.front());
      if (p >= 0 && !g_.nodes[static_cast<size_t>(p)].outputs.empty())
        gr.rootTensor = g_.nodes[static_cast<size_t>(p)].outputs[0];
      first = p >= 0 ? p : first;
    }
    ordered.emplace_back(first, gr);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<DependencyGroup> result;
  for (auto& o : ordered) {
    o.second.id = static_cast<int>(result.size());
    result.push_back(std::move(o.second));
  }
  return result;
}

}  // namespace

Result<std::vector<DependencyGroup>> buildDependencyGroups(const Graph& graph) {
  if (depdetail::hasAllShapes(graph)) return Analyzer(graph).run();
  Graph copy = graph;
  Status st = depdetail::fillShapes(copy);
  if (!st.isOk()) return st.withContext("dependency analysis needs tensor shapes");
  return Analyzer(copy).run();
}

}  // namespace topiary
