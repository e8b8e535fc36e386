// exportQdq: quantized weights stored as int8 initializers and read through
// DequantizeLinear, so the file is ~4x smaller and ONNX Runtime runs it.
//
// A model's opset is never raised: the meaning of other operators changed
// on the way (Pad, Squeeze and Unsqueeze took their lists as inputs, PRelu
// and Softmax changed their broadcasting and axis rules), so a raised opset
// silently changed or broke older models. Where the model's opset has no
// DequantizeLinear for these weights (per channel needs 13, per tensor 10),
// the weight is Cast to float and multiplied by its scales instead, which
// means the same in every opset from 6 (legacy broadcasting before 7).
#include "topiary/quantize.h"

namespace topiary {

namespace {

constexpr int64_t kOnnxFloat = 1;  // TensorProto.DataType FLOAT

}  // namespace

Result<Graph> exportQdq(const Graph& graph, const QuantSpec& spec) {
  TOPIARY_RETURN_IF_ERROR(checkQuantSpec(spec));
  const int64_t opset = graph.opset();
  const bool dequantizeLinear = opset >= 13 || (opset >= 10 && !spec.perChannel);
  const std::vector<PrunableLayer> layers = findPrunableLayers(graph);
  if (!dequantizeLinear && opset < 6 && !layers.empty())
    return Status::badInput(
        "quantized export needs ONNX opset 6 or later (Cast with a numeric 'to'); this model "
        "imports opset " +
        std::to_string(opset));
  Graph g = graph;
  std::vector<Node> dq;
  for (const auto& L : layers) {
    const Tensor& weight = graph.initializers.at(L.weight);
    auto qw = quantizeWeight(L, weight, spec);
    if (!qw) return qw.status();
    std::string codes = g.uniqueName(L.weight + "_quantized");
    g.initializers[codes] = std::move(qw->codes);
    std::string scale = g.uniqueName(L.weight + "_scale");
    const int64_t c = static_cast<int64_t>(qw->scales.size());
    g.initializers.erase(L.weight);
    g.valueInfo.erase(L.weight);
    if (dequantizeLinear) {
      std::string zero = g.uniqueName(L.weight + "_zero_point");
      if (spec.perChannel) {
        g.initializers[scale] = Tensor::fromVector<float>({c}, qw->scales);
        g.initializers[zero] = Tensor(DType::Int8, {c});
      } else {
        g.initializers[scale] = Tensor::fromVector<float>({}, qw->scales);
        g.initializers[zero] = Tensor(DType::Int8, {});
      }
      Node n;
      n.name = g.uniqueName(L.weight + "_dequantize");
      n.opType = "DequantizeLinear";
      n.inputs = {codes, scale, zero};
      n.outputs = {L.weight};  // consumers keep reading the weight by its name
      if (spec.perChannel) n.attrs["axis"] = Attribute::ofInt(qw->axis);
      dq.push_back(std::move(n));
      continue;
    }
    // weight = Cast(codes) * scales, the scales along the weight's axis.
    std::vector<int64_t> scaleShape;
    Node mul;
    if (spec.perChannel && opset >= 7) {
      scaleShape.assign(static_cast<size_t>(weight.rank()), 1);  // multidirectional broadcasting
      scaleShape[static_cast<size_t>(qw->axis)] = c;
    } else if (spec.perChannel) {
      scaleShape = {c};  // legacy broadcasting: B matches A from `axis`
      mul.attrs["broadcast"] = Attribute::ofInt(1);
      mul.attrs["axis"] = Attribute::ofInt(qw->axis);
    } else if (opset < 7) {
      mul.attrs["broadcast"] = Attribute::ofInt(1);
    }
    g.initializers[scale] = Tensor::fromVector<float>(scaleShape, qw->scales);
    Node cast;
    cast.name = g.uniqueName(L.weight + "_dequantize_cast");
    cast.opType = "Cast";
    cast.inputs = {codes};
    cast.outputs = {g.uniqueName(L.weight + "_codes_float")};
    cast.attrs["to"] = Attribute::ofInt(kOnnxFloat);
    mul.name = g.uniqueName(L.weight + "_dequantize");
    mul.opType = "Mul";
    mul.inputs = {cast.outputs[0], scale};
    mul.outputs = {L.weight};
    dq.push_back(std::move(cast));
    dq.push_back(std::move(mul));
  }
  g.nodes.insert(g.nodes.begin(), dq.begin(), dq.end());
  TOPIARY_RETURN_IF_ERROR(g.validate());
  return g;
}

}  // namespace topiary
