// Operators. Each ONNX operator is one Kernel subclass in one file under
// engine/src/ops/, built from a Node (attributes parsed and checked once, at
// build time) and listed in an explicit registry table with the opset range
// it covers. A kernel holds its forward pass, its backward pass where the
// operator is trainable, and its FLOP count.
#pragma once

#include <atomic>
#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

class KernelTuneCache;

struct RunContext {
  int threads = 1;                              // threads a kernel may use
  bool training = false;                        // BatchNorm batch stats, Dropout active
  const std::atomic<bool>* cancel = nullptr;    // checked between nodes
  KernelTuneCache* tuneCache = nullptr;         // kernel choices by timing (kernel_tune_cache.h)
};

class Kernel {
 public:
  virtual ~Kernel() = default;

  // in[i] is null for an omitted optional input. The kernel resizes each
  // out[i] (keeping its allocation when possible) and fills it.
  virtual Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                         const RunContext& ctx) = 0;

  // True when backward() is implemented.
  virtual bool hasBackward() const { return false; }

  // gradOut[i] is dLoss/dOut[i], or null when no gradient reaches that
  // output. For every non-null gradIn[i] the kernel resizes it to in[i]'s
  // shape and overwrites it with dLoss/dIn[i] (no accumulation).
  virtual Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                          const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                          const RunContext& ctx);

  // Floating-point operations for these shapes; a multiply-add counts as 2.
  virtual double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const;
};

// Builds a kernel for a node, validating its attributes. Errors name the node.
using KernelFactory = Result<std::unique_ptr<Kernel>> (*)(const Node& node, int opset);

struct OpSchema {
  std::string opType;
  int sinceVersion = 1;         // first default-domain opset covered
  int untilVersion = INT_MAX;   // last opset covered
  KernelFactory create = nullptr;
};

class OpRegistry {
 public:
  // The table of every operator the engine claims (see ops/registry.cpp).
  static const OpRegistry& instance();

  void add(OpSchema schema);
  const OpSchema* find(const std::string& opType, int64_t opset) const;
  bool claims(const std::string& opType) const;  // any opset
  std::vector<std::string> opTypes() const;     // sorted, unique

  // Builds the kernel for a node; Unsupported naming the operator and node
  // when the operator or its opset is not in the table.
  Result<std::unique_ptr<Kernel>> build(const Node& node, int64_t opset) const;

 private:
  std::vector<OpSchema> schemas_;
};

}  // namespace topiary
