// Weight quantization on top of pruning: uniform symmetric k-bit codes
// (k = 1..8) per tensor or per output channel, fake quantization for
// evaluation, export as ONNX DequantizeLinear over int8 initializers, and
// quantization-aware fine-tuning hooks (straight-through estimator).
//
// Codes: k >= 3: q = clamp(round(w / s), -(2^(k-1)-1), 2^(k-1)-1) with
// s = max|w| / (2^(k-1)-1), so |w - s q| <= s/2. k = 2: ternary (Li & Liu,
// TWN): q = sign(w) where |w| > 0.7 mean|w|, s = mean|w| over those. k = 1:
// binary: q = sign(w), s = mean|w| (XNOR-Net). Every scheme maps 0 to 0, so
// pruned weights stay pruned; means are over the nonzero weights.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/prune.h"
#include "topiary/status.h"
#include "topiary/tensor.h"
#include "topiary/train.h"

namespace topiary {

struct QuantSpec {
  int bits = 8;            // 1..8
  bool perChannel = true;  // one scale per output unit (else per tensor)
};

struct QuantizedWeight {
  Tensor codes;               // int8, the weight's shape
  std::vector<float> scales;  // outUnits (per channel) or 1
  int axis = 0;               // the weight's axis the scales run along (ONNX DequantizeLinear axis)
};

Status checkQuantSpec(const QuantSpec& spec);  // BadInput naming bits
Result<QuantizedWeight> quantizeWeight(const PrunableLayer& layer, const Tensor& weight, const QuantSpec& spec);
// w <- s * q in place.
Status fakeQuantize(const PrunableLayer& layer, Tensor& weight, const QuantSpec& spec);
// Fake-quantizes every prunable weight of the graph.
Status fakeQuantizeGraph(Graph& graph, const QuantSpec& spec);

// A copy of the graph whose prunable weights are int8 initializers read
// through DequantizeLinear, or through Cast and Mul by the scales where the
// model's opset has no DequantizeLinear for them (per channel: below 13;
// per tensor: below 10). The opset is never changed. BadInput below opset 6.
// Runs in ONNX Runtime and in Topiary's executor; the values equal
// fakeQuantizeGraph's.
Result<Graph> exportQdq(const Graph& graph, const QuantSpec& spec);

// Weights stored as integers and read through DequantizeLinear of constant
// initializers, or through Cast and Mul by constant scales (both forms
// exportQdq writes; ONNX Runtime's QDQ tools write the first).
struct DequantizedWeights {
  std::map<std::string, Tensor> values;  // float value by the name the consumers read
  std::set<std::string> sources;         // the initializers they come from (codes, scales, zero points)
  std::vector<size_t> nodes;             // indices of the dequantizing nodes
};
Result<DequantizedWeights> findDequantizedWeights(const Graph& graph);
// Replaces them by float initializers (pruning a quantized model works on
// floats; a recipe's quantize stores them as integers again). Returns how
// many weights were replaced.
Result<int> dequantizeWeights(Graph& graph);

// Quantization-aware training hooks: before each forward pass the weights
// are fake-quantized (full-precision copies kept); after the backward pass
// the full-precision weights are restored so the optimizer updates them with
// the gradient taken at the quantized point (straight-through estimator).
// After training call finishQat to leave the graph quantized.
struct QatState;
TrainHooks makeQatHooks(const QuantSpec& spec, std::shared_ptr<QatState>& state);
Status finishQat(Graph& graph, const QuantSpec& spec);

}  // namespace topiary
