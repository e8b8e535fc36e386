// Factories of the elementwise family (arithmetic, activations, softmax...).
#pragma once
#include "topiary/kernel.h"

namespace topiary::ops {
Result<std::unique_ptr<Kernel>> createRelu(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createAdd(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSub(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createMul(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createDiv(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSqrt(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSigmoid(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createTanh(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createExp(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createLog(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createNeg(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createAbs(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createReciprocal(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createErf(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createLeakyRelu(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createHardSigmoid(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createHardSwish(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSoftmax(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createLogSoftmax(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createClip(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createPow(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createIdentity(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createDropout(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createCast(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createReduceMean(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createCastLike(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createEqual(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createLess(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createGreater(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createLessOrEqual(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createGreaterOrEqual(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createWhere(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createMax(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createMin(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSum(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createMean(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createAnd(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createOr(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createXor(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createNot(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSoftplus(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSoftsign(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSin(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createCos(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createFloor(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createCeil(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createRound(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSign(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createElu(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createSelu(const Node& node, int opset);
Result<std::unique_ptr<Kernel>> createPRelu(const Node& node, int opset);
}  // namespace topiary::ops
