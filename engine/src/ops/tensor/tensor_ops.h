// Factories of the tensor-manipulation family (shapes, copies, indexing).
#pragma once
#include "topiary/kernel.h"

namespace topiary::ops {
Result<std::unique_ptr<Kernel>> createFlatten(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createReshape(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createTranspose(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createConcat(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSplit(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSlice(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSqueeze(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createUnsqueeze(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createShape(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSize(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createGather(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createGatherElements(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createConstant(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createConstantOfShape(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createExpand(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createTile(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createRange(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createDepthToSpace(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSpaceToDepth(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createGatherND(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createTrilu(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createCumSum(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createOneHot(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createTopK(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createNonZero(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createScatterElements(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createScatter(const Node& node, int opset);  // scatter_elements.cpp
Result<std::unique_ptr<Kernel>> createScatterND(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createCompress(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createEyeLike(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createReverseSequence(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createEinsum(const Node& node, int opset);
}  // namespace topiary::ops
