// Runs on zero inputs: makeInputLike and ZeroFeed (inputs shaped like the
// graph's, refused by their bytes before allocating), Executor::runOnZeros,
// and inferShapes, which records every tensor's shape from such a run.
#include "topiary/executor.h"

#include <memory>
#include <string>
#include <utility>

namespace topiary {

Result<Tensor> makeInputLike(const ValueInfo& info, int64_t batch, uint64_t maxBytes) {
  if (!info.hasShape) return Status::badInput("input '" + info.name + "' declares no shape");
  if (!dtypeSupported(info.dtype)) return Status::unsupported("input '" + info.name + "' has an unsupported type");
  Shape s;
  for (const Dim& d : info.dims) s.push_back(d.value >= 0 ? d.value : batch);
  auto n = checkedNumel(s);
  if (!n) return n.status();
  // By bytes, not elements: 2^31 floats was 8 GiB (a declared [3, 1.6e9]
  // input took 6.4 GB before the run could refuse anything).
  const uint64_t size = dtypeSize(info.dtype);
  if (static_cast<uint64_t>(n.value()) > maxBytes / size)
    return Status::badInput("input '" + info.name + "' of shape " + shapeToString(s) + " would need " +
                            std::to_string(static_cast<uint64_t>(n.value()) * size) + " bytes, over the limit of " +
                            std::to_string(maxBytes));
  return Tensor(info.dtype, s);
}

Result<ZeroFeed> ZeroFeed::make(const Graph& graph, int64_t batch, uint64_t maxBytes) {
  ZeroFeed z;
  z.tensors.reserve(graph.inputs.size());
  for (const auto& in : graph.inputs) {
    auto t = makeInputLike(in, batch, maxBytes);
    if (!t) return t.status();
    z.tensors.push_back(std::move(t.value()));
  }
  for (size_t i = 0; i < z.tensors.size(); ++i) z.feed.emplace_back(graph.inputs[i].name, &z.tensors[i]);
  return z;
}

Status Executor::runOnZeros(int64_t batch) {
  auto z = ZeroFeed::make(*graph_, batch, maxTensorBytes_);
  if (!z) return z.status();
  zeros_ = std::make_unique<ZeroFeed>(std::move(z.value()));
  return run(zeros_->feed);
}

Status inferShapes(Graph& graph, int64_t batch) { return inferShapes(graph, batch, ExecutorOptions{}); }

Status inferShapes(Graph& graph, int64_t batch, const ExecutorOptions& options) {
  ExecutorOptions o;
  o.threads = options.threads;
  o.maxTensorBytes = options.maxTensorBytes;
  o.maxRunBytes = options.maxRunBytes;
  auto ex = Executor::create(graph, o);
  if (!ex) return ex.status();
  TOPIARY_RETURN_IF_ERROR((*ex)->runOnZeros(batch));
  // The batch dimension is symbolic when the first input's first dim is.
  std::string batchParam;
  bool symbolicBatch = !graph.inputs.empty() && graph.inputs[0].hasShape && !graph.inputs[0].dims.empty() &&
                       graph.inputs[0].dims[0].value < 0;
  if (symbolicBatch) batchParam = graph.inputs[0].dims[0].param.empty() ? "N" : graph.inputs[0].dims[0].param;
  for (const auto& node : graph.nodes)
    for (const auto& out : node.outputs) {
      if (out.empty()) continue;
      const Tensor* t = (*ex)->value(out);
      if (!t) continue;
      ValueInfo v;
      v.name = out;
      v.dtype = t->dtype();
      v.hasShape = true;
      for (size_t d = 0; d < t->shape().size(); ++d) {
        Dim dim{t->shape()[d], ""};
        if (symbolicBatch && d == 0 && t->shape()[d] == batch && batch != 1) dim = Dim{-1, batchParam};
        v.dims.push_back(dim);
      }
      if (graph.isGraphOutput(out)) continue;
      graph.valueInfo[out] = v;
    }
  return Status::ok();
}

}  // namespace topiary
