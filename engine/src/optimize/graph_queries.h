// Small graph lookups the inference rewrites share.
#pragma once

#include <string>
#include <vector>

#include "topiary/graph.h"

namespace topiary::optimize {

// The single node reading `tensor`, or -1 when there are none, several, or
// the tensor is also a graph output (then it must stay visible).
inline int soleConsumer(const Graph& g, const std::string& tensor) {
  if (g.isGraphOutput(tensor)) return -1;
  std::vector<int> c = g.consumersOf(tensor);
  return c.size() == 1 ? c[0] : -1;
}

// A float initializer by name, or null (absent, another type, or computed at run time).
inline const Tensor* floatInit(const Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  if (it == g.initializers.end() || it->second.dtype() != DType::Float) return nullptr;
  return &it->second;
}

}  // namespace topiary::optimize
