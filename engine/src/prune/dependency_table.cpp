// The channel behaviour of every operator the dependency analysis
// understands: how channel i of the data input relates to the output's
// channels. Anything not listed is Opaque and locks the groups it touches.
#include <map>

#include "topiary/dependency.h"

namespace topiary {

namespace {

const std::map<std::string, ChannelRole>& roleTable() {
  static const std::map<std::string, ChannelRole> table = {
      // New channels from a weight: input channels are consumed (weight
      // axis 1 / rows), output channels produced (weight axis 0 / columns).
      // A depthwise Conv (group == C) is treated as Passthrough by the analysis.
      {"Conv", ChannelRole::Producer},
      {"Gemm", ChannelRole::Producer},
      {"MatMul", ChannelRole::Producer},
      // Per-channel maps: output channel i reads input channel i only.
      {"Relu", ChannelRole::Passthrough},
      {"LeakyRelu", ChannelRole::Passthrough},
      {"Elu", ChannelRole::Passthrough},
      {"Selu", ChannelRole::Passthrough},
      {"Celu", ChannelRole::Passthrough},
      {"Sigmoid", ChannelRole::Passthrough},
      {"HardSigmoid", ChannelRole::Passthrough},
      {"HardSwish", ChannelRole::Passthrough},
      {"Tanh", ChannelRole::Passthrough},
      {"Softplus", ChannelRole::Passthrough},
      {"Softsign", ChannelRole::Passthrough},
      {"Gelu", ChannelRole::Passthrough},
      {"Mish", ChannelRole::Passthrough},
      {"Abs", ChannelRole::Passthrough},
      {"Neg", ChannelRole::Passthrough},
      {"Exp", ChannelRole::Passthrough},
      {"Erf", ChannelRole::Passthrough},
      {"Sqrt", ChannelRole::Passthrough},
      {"Log", ChannelRole::Passthrough},
      {"Reciprocal", ChannelRole::Passthrough},
      {"Floor", ChannelRole::Passthrough},
      {"Ceil", ChannelRole::Passthrough},
      {"Round", ChannelRole::Passthrough},
      {"Sign", ChannelRole::Passthrough},
      {"Sin", ChannelRole::Passthrough},
      {"Cos", ChannelRole::Passthrough},
      {"Tan", ChannelRole::Passthrough},
      {"Sinh", ChannelRole::Passthrough},
      {"Cosh", ChannelRole::Passthrough},
      {"Asin", ChannelRole::Passthrough},
      {"Acos", ChannelRole::Passthrough},
      {"Atan", ChannelRole::Passthrough},
      {"Asinh", ChannelRole::Passthrough},
      {"Acosh", ChannelRole::Passthrough},
      {"Atanh", ChannelRole::Passthrough},
      {"ThresholdedRelu", ChannelRole::Passthrough},
      {"Shrink", ChannelRole::Passthrough},
      {"Clip", ChannelRole::Passthrough},
      {"Cast", ChannelRole::Passthrough},
      {"Identity", ChannelRole::Passthrough},
      {"Dropout", ChannelRole::Passthrough},
      {"BatchNormalization", ChannelRole::Passthrough},     // scale, B, mean, var sliced on axis 0
      {"InstanceNormalization", ChannelRole::Passthrough},  // scale, B sliced on axis 0
      {"MaxPool", ChannelRole::Passthrough},
      {"AveragePool", ChannelRole::Passthrough},
      {"LpPool", ChannelRole::Passthrough},
      {"GlobalAveragePool", ChannelRole::Passthrough},
      {"GlobalMaxPool", ChannelRole::Passthrough},
      {"GlobalLpPool", ChannelRole::Passthrough},
      // Passthrough only when they leave axes 0 and 1 alone (checked per node).
      {"ReduceMean", ChannelRole::Passthrough},
      {"ReduceMax", ChannelRole::Passthrough},
      {"ReduceMin", ChannelRole::Passthrough},
      {"ReduceSum", ChannelRole::Passthrough},
      {"ReduceProd", ChannelRole::Passthrough},
      {"ReduceSumSquare", ChannelRole::Passthrough},
      {"ReduceL1", ChannelRole::Passthrough},
      {"ReduceL2", ChannelRole::Passthrough},
      {"ReduceLogSum", ChannelRole::Passthrough},
      {"ReduceLogSumExp", ChannelRole::Passthrough},
      {"Squeeze", ChannelRole::Passthrough},
      {"Unsqueeze", ChannelRole::Passthrough},
      {"Pad", ChannelRole::Passthrough},
      {"Softmax", ChannelRole::Passthrough},
      {"LogSoftmax", ChannelRole::Passthrough},
      {"Hardmax", ChannelRole::Passthrough},
      // Broadcasting binary ops: same-shape runtime partners share channels
      // (residual Add, squeeze-excite Mul); per-channel constants are sliced.
      {"Add", ChannelRole::Elementwise},
      {"Sub", ChannelRole::Elementwise},
      {"Mul", ChannelRole::Elementwise},
      {"Div", ChannelRole::Elementwise},
      {"Pow", ChannelRole::Elementwise},
      {"Mod", ChannelRole::Elementwise},
      {"Max", ChannelRole::Elementwise},
      {"Min", ChannelRole::Elementwise},
      {"Sum", ChannelRole::Elementwise},
      {"Mean", ChannelRole::Elementwise},
      {"PRelu", ChannelRole::Elementwise},
      {"Concat", ChannelRole::Concat},
      {"Flatten", ChannelRole::Reshape},
      {"Reshape", ChannelRole::Reshape},
      {"Transpose", ChannelRole::Transpose},
      {"Shape", ChannelRole::ShapeOnly},
      {"Size", ChannelRole::ShapeOnly},
  };
  return table;
}

}  // namespace

ChannelRole channelRoleOf(const std::string& opType) {
  auto it = roleTable().find(opType);
  return it == roleTable().end() ? ChannelRole::Opaque : it->second;
}

const char* channelRoleName(ChannelRole role) {
  switch (role) {
    case ChannelRole::Producer: return "producer";
    case ChannelRole::Passthrough: return "passthrough";
    case ChannelRole::Elementwise: return "elementwise";
    case ChannelRole::Concat: return "concat";
    case ChannelRole::Reshape: return "reshape";
    case ChannelRole::Transpose: return "transpose";
    case ChannelRole::ShapeOnly: return "shape-only";
    case ChannelRole::Opaque: return "opaque";
  }
  return "opaque";
}

const char* sliceKindName(ChannelSlice::Kind kind) {
  switch (kind) {
    case ChannelSlice::Kind::ProducerOut: return "producer";
    case ChannelSlice::Kind::Param: return "param";
    case ChannelSlice::Kind::ConsumerIn: return "consumer";
  }
  return "param";
}

}  // namespace topiary
