// Helpers shared by the dependency analysis, surgery and layer removal.
#pragma once

#include <string>

#include "topiary/graph.h"
#include "topiary/status.h"

namespace topiary {
namespace depdetail {

// Index of the node whose label() (its name, or "<Op -> output>" when
// unnamed) is `label`; -1 when none. Groups name nodes by label.
inline int findNodeByLabel(const Graph& g, const std::string& label) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].label() == label) return static_cast<int>(i);
  return -1;
}

// True when every node output (graph outputs included) has a known shape.
bool hasAllShapes(const Graph& g);
// Runs the graph once at batch 1 and records every node output's shape: in
// valueInfo, and on graph outputs whose declaration lacks one.
Status fillShapes(Graph& g);

}  // namespace depdetail
}  // namespace topiary
