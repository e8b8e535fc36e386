// Layer granularity: removing a whole layer (replaced by identity) or a
// whole residual branch (the Add then passes the skip path through).
#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "prune/dependency_internal.h"
#include "topiary/dependency.h"
#include "topiary/executor.h"

namespace topiary {

namespace {

struct RemovalPlan {
  std::set<int> drop;        // node indices to delete
  int bypassed = -1;         // the node whose output becomes `keep`
  std::string keep;          // tensor that replaces the bypassed node's output
};

bool shapeOf(const Graph& g, const std::string& t, Shape& s) {
  const ValueInfo* vi = g.info(t);
  if (!vi || !vi->hasShape) return false;
  s = vi->shape();
  return true;
}

// Equal shapes; a symbolic (-1) dimension, as declared on graph outputs, matches any size.
bool sameShape(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && a[i] >= 0 && b[i] >= 0) return false;
  return true;
}

// Two shapes as a message shows them side by side. A graph output keeps its
// declared symbolic batch (-1) while the tensors inferred at batch 1 hold 1;
// shown raw that reads "[-1,10] into [1,84]", as if the batch differed too.
// A dimension symbolic on one side only shows the other side's size.
std::pair<std::string, std::string> shownPair(Shape a, Shape b) {
  if (a.size() == b.size())
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] < 0 && b[i] >= 0) a[i] = b[i];
      else if (b[i] < 0 && a[i] >= 0) b[i] = a[i];
    }
  return {shapeToString(a), shapeToString(b)};
}

std::string who(const Node& n) { return "node '" + n.label() + "' (" + n.opType + ")"; }

// Nodes that only feed `tensor` into node `sink`: removing the sink's use of
// `tensor` makes all of them dead. Walks backwards in topological order.
std::set<int> exclusiveAncestors(const Graph& g, int sink, const std::string& tensor) {
  std::set<int> excl;
  // Tensors whose every reader is being removed.
  auto deadTensor = [&](const std::string& t) {
    if (t.empty() || g.isGraphOutput(t)) return false;
    for (int c : g.consumersOf(t)) {
      if (c == sink) {
        // The sink may read it only through this input.
        const Node& s = g.nodes[static_cast<size_t>(sink)];
        if (std::count(s.inputs.begin(), s.inputs.end(), t) != 1 || t != tensor) return false;
      } else if (!excl.count(c)) {
        return false;
      }
    }
    return true;
  };
  for (int i = sink - 1; i >= 0; --i) {
    const Node& n = g.nodes[static_cast<size_t>(i)];
    bool feeds = false, allDead = true;
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (!g.consumersOf(o).empty()) feeds = true;
      if (!deadTensor(o)) allDead = false;
    }
    if (feeds && allDead) excl.insert(i);
  }
  return excl;
}

Status planResidual(const Graph& g, int idx, RemovalPlan& plan) {
  const Node& add = g.nodes[static_cast<size_t>(idx)];
  Shape out, a, b;
  if (add.inputs.size() != 2 || g.isInitializer(add.input(0)) || g.isInitializer(add.input(1)) ||
      !shapeOf(g, add.outputs[0], out) || !shapeOf(g, add.input(0), a) || !shapeOf(g, add.input(1), b))
    return Status::badInput(who(add) + " is not a residual join of two tensors of known shape");
  std::set<int> branch[2] = {exclusiveAncestors(g, idx, add.input(0)), exclusiveAncestors(g, idx, add.input(1))};
  // The branch is the side with more layers of its own; the skip path (identity
  // or projection) stays.
  int drop = branch[0].size() >= branch[1].size() ? 0 : 1;
  if (branch[drop].empty())
    return Status::badInput(who(add) + " has no branch of its own to remove (both inputs are used elsewhere)");
  const Shape& keepShape = drop == 0 ? b : a;
  if (!sameShape(keepShape, out)) {
    const auto shown = shownPair(out, keepShape);
    return Status::badInput("removing the branch of " + who(add) + " would change " + shown.first +
                            " into the skip path's " + shown.second);
  }
  plan.drop = branch[drop];
  plan.drop.insert(idx);
  plan.bypassed = idx;
  plan.keep = add.input(drop == 0 ? 1 : 0);
  return Status::ok();
}

Status planRemoval(const Graph& g, const std::string& nodeName, RemovalPlan& plan) {
  int idx = depdetail::findNodeByLabel(g, nodeName);
  if (idx < 0) return Status::badInput("no node named '" + nodeName + "'");
  const Node& n = g.nodes[static_cast<size_t>(idx)];
  if ((n.opType == "Add" || n.opType == "Sum") && n.inputs.size() == 2 && !g.isInitializer(n.input(0)) &&
      !g.isInitializer(n.input(1)))
    return planResidual(g, idx, plan);
  std::vector<std::string> data;
  for (const auto& in : n.inputs)
    if (!in.empty() && !g.isInitializer(in)) data.push_back(in);
  if (data.size() != 1)
    return Status::badInput(who(n) + " has " + std::to_string(data.size()) +
                            " data inputs; only a layer with one data input can be replaced by identity");
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (!n.outputs[i].empty() && (!g.consumersOf(n.outputs[i]).empty() || g.isGraphOutput(n.outputs[i])))
      return Status::badInput(who(n) + " has a second output '" + n.outputs[i] + "' that is used");
  Shape in, out;
  if (n.outputs.empty() || !shapeOf(g, data[0], in) || !shapeOf(g, n.outputs[0], out))
    return Status::badInput(who(n) + " has tensors of unknown shape");
  const ValueInfo* vin = g.info(data[0]);
  const ValueInfo* vout = g.info(n.outputs[0]);
  if (vin->dtype != DType::Float)
    return Status::badInput(who(n) + " works on " + dtypeName(vin->dtype) +
                            " tensors (shape arithmetic, indices); only layers on float activations can be removed");
  if (!sameShape(in, out) || vin->dtype != vout->dtype) {
    const auto shown = shownPair(out, in);
    return Status::badInput("removing " + who(n) + " would change its output " + shown.first + " " +
                            dtypeName(vout->dtype) + " into its input " + shown.second + " " + dtypeName(vin->dtype) +
                            "; only a layer that keeps the shape can be replaced by identity");
  }
  plan.drop = {idx};
  plan.bypassed = idx;
  plan.keep = data[0];
  return Status::ok();
}

Result<Graph> withShapes(const Graph& g) {
  Graph copy = g;
  if (depdetail::hasAllShapes(copy)) return copy;
  Status st = depdetail::fillShapes(copy);
  if (!st.isOk()) return st.withContext("layer removal needs tensor shapes");
  return copy;
}

}  // namespace

Status checkLayerRemoval(const Graph& graph, const std::string& nodeName) {
  auto g = withShapes(graph);
  if (!g) return g.status();
  RemovalPlan plan;
  return planRemoval(g.value(), nodeName, plan);
}

Status removeLayer(Graph& graph, const std::string& nodeName) {
  auto shaped = withShapes(graph);
  if (!shaped) return shaped.status();
  Graph g = std::move(shaped.value());
  RemovalPlan plan;
  TOPIARY_RETURN_IF_ERROR(planRemoval(g, nodeName, plan));
  const std::string gone = g.nodes[static_cast<size_t>(plan.bypassed)].outputs[0];
  const bool isOutput = g.isGraphOutput(gone);
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!plan.drop.count(static_cast<int>(i))) {
      kept.push_back(std::move(g.nodes[i]));
      for (auto& in : kept.back().inputs)
        if (in == gone) in = plan.keep;
    } else if (static_cast<int>(i) == plan.bypassed && isOutput) {
      // A graph output keeps its name: the layer becomes an Identity.
      Node id;
      id.name = g.nodes[i].name;
      id.opType = "Identity";
      id.inputs = {plan.keep};
      id.outputs = {gone};
      kept.push_back(std::move(id));
    }
  }
  g.nodes = std::move(kept);
  std::set<std::string> used;
  for (const auto& n : g.nodes) used.insert(n.inputs.begin(), n.inputs.end());
  for (auto it = g.initializers.begin(); it != g.initializers.end();)
    it = used.count(it->first) ? std::next(it) : g.initializers.erase(it);
  g.valueInfo.clear();
  TOPIARY_RETURN_IF_ERROR(g.validate().withContext("after removing '" + nodeName + "'"));
  TOPIARY_RETURN_IF_ERROR(inferShapes(g).withContext("after removing '" + nodeName + "'"));
  graph = std::move(g);
  return Status::ok();
}

std::vector<std::string> removableLayers(const Graph& graph) {
  std::vector<std::string> out;
  auto g = withShapes(graph);
  if (!g) return out;
  for (const auto& n : g->nodes) {
    RemovalPlan plan;
    if (planRemoval(g.value(), n.label(), plan).isOk()) out.push_back(n.label());
  }
  return out;
}

}  // namespace topiary
