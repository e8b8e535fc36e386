// Factories of the neural-network family (Conv, Gemm, pooling, normalisation).
#pragma once
#include "topiary/kernel.h"

namespace topiary::ops {
Result<std::unique_ptr<Kernel>> createGemm(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createConv(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createConvWithSkipping(const Node& node, int opset);  // conv_dynamic.cpp
Result<std::unique_ptr<Kernel>> createMaxPool(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createAveragePool(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createGlobalAveragePool(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createGlobalMaxPool(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createBatchNorm(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createMatMul(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createPad(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createConvTranspose(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createResize(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createUpsample(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createLayerNormalization(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createInstanceNormalization(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createLrn(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createMeanVarianceNormalization(const Node& node, int opset);
}  // namespace topiary::ops
