// Registration functions of the operator families. Each lives beside the
// family's kernels and adds one line per operator to the table.
#pragma once

namespace topiary {
class OpRegistry;
void registerNnOps(OpRegistry& r);           // ops/nn/: Conv, Gemm, pooling, BatchNorm, ...
void registerElementwiseOps(OpRegistry& r);  // ops/elementwise/: arithmetic, activations, softmax, ...
void registerTensorOps(OpRegistry& r);       // ops/tensor/: Reshape, Concat, Slice, Gather, ...
void registerQuantOps(OpRegistry& r);        // ops/quant/: QuantizeLinear, DequantizeLinear
}  // namespace topiary
