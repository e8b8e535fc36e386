#include "ops/elementwise/elementwise_ops.h"
#include "ops/registry_parts.h"

namespace topiary {

// Opset ranges: the first version whose float32 semantics the kernel
// implements; later versions only widened the type lists.
void registerElementwiseOps(OpRegistry& r) {
  using namespace ops;
  r.add({"Relu", 1, INT_MAX, createRelu});
  r.add({"Add", 6, INT_MAX, createAdd});  // < 7: legacy broadcast/axis attributes emulated
  r.add({"Sub", 6, INT_MAX, createSub});
  r.add({"Mul", 6, INT_MAX, createMul});
  r.add({"Div", 6, INT_MAX, createDiv});
  r.add({"Sqrt", 6, INT_MAX, createSqrt});
  r.add({"Sigmoid", 6, INT_MAX, createSigmoid});
  r.add({"Tanh", 6, INT_MAX, createTanh});
  r.add({"Exp", 6, INT_MAX, createExp});
  r.add({"Log", 6, INT_MAX, createLog});
  r.add({"Neg", 6, INT_MAX, createNeg});
  r.add({"Abs", 6, INT_MAX, createAbs});
  r.add({"Reciprocal", 6, INT_MAX, createReciprocal});
  r.add({"Erf", 9, INT_MAX, createErf});
  r.add({"LeakyRelu", 6, INT_MAX, createLeakyRelu});
  r.add({"HardSigmoid", 6, INT_MAX, createHardSigmoid});
  r.add({"HardSwish", 14, INT_MAX, createHardSwish});
  r.add({"Softmax", 1, INT_MAX, createSoftmax});  // < 13: coerced to 2-D at axis
  r.add({"LogSoftmax", 1, INT_MAX, createLogSoftmax});
  r.add({"Clip", 6, INT_MAX, createClip});  // < 11: bounds as attributes
  r.add({"Pow", 7, INT_MAX, createPow});
  r.add({"Identity", 1, INT_MAX, createIdentity});
  r.add({"Dropout", 6, INT_MAX, createDropout});  // < 12: ratio attribute; >= 12: ratio, training_mode inputs
  r.add({"Cast", 6, INT_MAX, createCast});
  r.add({"ReduceMean", 1, INT_MAX, createReduceMean});  // >= 18: axes as input
  r.add({"CastLike", 15, INT_MAX, createCastLike});
  r.add({"Equal", 7, INT_MAX, createEqual});
  r.add({"Less", 7, INT_MAX, createLess});
  r.add({"Greater", 7, INT_MAX, createGreater});
  r.add({"LessOrEqual", 12, INT_MAX, createLessOrEqual});
  r.add({"GreaterOrEqual", 12, INT_MAX, createGreaterOrEqual});
  r.add({"Where", 9, INT_MAX, createWhere});
  r.add({"Max", 6, INT_MAX, createMax});  // < 8 required equal shapes: broadcasting is a superset
  r.add({"Min", 6, INT_MAX, createMin});
  r.add({"Sum", 6, INT_MAX, createSum});
  r.add({"Mean", 6, INT_MAX, createMean});
  r.add({"And", 7, INT_MAX, createAnd});
  r.add({"Or", 7, INT_MAX, createOr});
  r.add({"Xor", 7, INT_MAX, createXor});
  r.add({"Not", 1, INT_MAX, createNot});
  r.add({"Softplus", 1, INT_MAX, createSoftplus});
  r.add({"Softsign", 1, INT_MAX, createSoftsign});
  r.add({"Sin", 7, INT_MAX, createSin});
  r.add({"Cos", 7, INT_MAX, createCos});
  r.add({"Floor", 6, INT_MAX, createFloor});
  r.add({"Ceil", 6, INT_MAX, createCeil});
  r.add({"Round", 11, INT_MAX, createRound});
  r.add({"Sign", 9, INT_MAX, createSign});
  r.add({"Elu", 6, INT_MAX, createElu});
  r.add({"Selu", 6, INT_MAX, createSelu});
  r.add({"ReduceSum", 1, INT_MAX, createReduceSum});  // >= 13: axes as input
  r.add({"ReduceMax", 1, INT_MAX, createReduceMax});  // >= 18: axes as input (all the Reduce* below)
  r.add({"ReduceMin", 1, INT_MAX, createReduceMin});
  r.add({"ReduceProd", 1, INT_MAX, createReduceProd});
  r.add({"ReduceSumSquare", 1, INT_MAX, createReduceSumSquare});
  r.add({"ReduceL1", 1, INT_MAX, createReduceL1});
  r.add({"ReduceL2", 1, INT_MAX, createReduceL2});
  r.add({"ReduceLogSum", 1, INT_MAX, createReduceLogSum});
  r.add({"ReduceLogSumExp", 1, INT_MAX, createReduceLogSumExp});
  r.add({"ArgMax", 1, INT_MAX, createArgMax});  // select_last_index from 12 (absent before: first index)
  r.add({"ArgMin", 1, INT_MAX, createArgMin});
  r.add({"Hardmax", 1, INT_MAX, createHardmax});  // < 13: coerced to 2-D at axis
  r.add({"Mod", 10, INT_MAX, createMod});
  r.add({"ThresholdedRelu", 10, INT_MAX, createThresholdedRelu});
  r.add({"Shrink", 9, INT_MAX, createShrink});
  r.add({"Celu", 12, INT_MAX, createCelu});
  r.add({"IsNaN", 9, INT_MAX, createIsNaN});
  r.add({"IsInf", 10, INT_MAX, createIsInf});
  r.add({"Tan", 7, INT_MAX, createTan});
  r.add({"Asin", 7, INT_MAX, createAsin});
  r.add({"Acos", 7, INT_MAX, createAcos});
  r.add({"Atan", 7, INT_MAX, createAtan});
  r.add({"Sinh", 9, INT_MAX, createSinh});
  r.add({"Cosh", 9, INT_MAX, createCosh});
  r.add({"Asinh", 9, INT_MAX, createAsinh});
  r.add({"Acosh", 9, INT_MAX, createAcosh});
  r.add({"Atanh", 9, INT_MAX, createAtanh});
  r.add({"PRelu", 6, INT_MAX, createPRelu});  // < 7: slope broadcast as numpy does (superset)
}

}  // namespace topiary
