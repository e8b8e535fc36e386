// Inference rewrite: a squeeze-excite chain
//   p = GlobalAveragePool(x); h = Conv1x1(p) [+act]; s = Conv1x1(h) [+act]; y = Mul(x, s)
// (activations already fused into the Convs) becomes the Mul node alone,
// run by ops/nn/squeeze_excite.h. Only when p, h and s have no other
// reader and are not graph outputs, the Convs are plain pointwise ones
// (group 1, no padding, no residual, constant float weights) and the Mul
// multiplies by the same x the pool read.
#pragma once

#include <string>
#include <vector>

#include "topiary/graph.h"

namespace topiary::optimize {

// Returns the number of chains fused; `log` gets one line per chain.
int fuseSqueezeExcite(Graph& g, std::vector<std::string>& log);

}  // namespace topiary::optimize
