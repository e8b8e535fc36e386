// The write step shared by ScatterElements and ScatterND: blocks of updates
// written (or combined by a reduction) at offsets already checked in range.
#pragma once

#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/tensor.h"

namespace topiary::ops {

enum class ScatterReduction { None, Add, Mul, Max, Min };

// Reads the `reduction` attribute: add/mul from opset 16, max/min from 18.
Result<ScatterReduction> parseScatterReduction(const Node& node, int opset, const std::string& op);

// For every i, the `block` elements of updates starting at i * block go to
// data at offsets[i] (in elements). A reduction needs a numeric dtype
// (Unsupported otherwise); plain replacement moves bytes of any dtype.
// Repeated offsets apply in order.
Status scatterInto(Tensor& data, const Tensor& updates, const std::vector<int64_t>& offsets, int64_t block,
                   ScatterReduction reduction, const std::string& op);

// FLOPs of a scatter given its input shapes (data, indices, updates): one
// add/mul/max/min per update element with a reduction; plain replacement
// moves data and counts nothing.
double scatterFlops(const std::vector<Shape>& in, ScatterReduction reduction);

}  // namespace topiary::ops
