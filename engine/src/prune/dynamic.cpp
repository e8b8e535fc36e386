// Input-dependent channel skipping: how much of each Conv's work one input's
// silent channels would save.
#include "topiary/dynamic.h"

#include <cmath>

#include "topiary/dataset.h"
#include "topiary/executor.h"

namespace topiary {

Result<DynamicReport> analyzeDynamicSkipping(const Graph& graph, const Tensor& images, const DynamicOptions& o) {
  if (graph.inputs.size() != 1) return Status::unsupported("dynamic analysis needs a graph with one input");
  if (images.rank() < 1 || images.dim(0) == 0) return Status::badInput("dynamic analysis needs at least one input");
  ExecutorOptions eo;
  eo.threads = o.threads;
  auto ex = Executor::create(graph, eo);
  if (!ex) return ex.status();
  // Single-channel images into a channels-last or flat input: the same bytes, another shape.
  Tensor fitted;
  const Tensor* x = &images;
  const Shape want = fittedImageShape(images.shape(), graph.inputs[0]);
  if (want != images.shape()) {
    fitted = images;
    fitted.reshapeInPlace(want);
    x = &fitted;
  }
  TOPIARY_RETURN_IF_ERROR((*ex)->run(*x));
  const int64_t N = images.dim(0);
  std::vector<double> nodeFlops = (*ex)->nodeFlops();
  DynamicReport r;
  r.threshold = o.threshold;
  r.inputs.assign(static_cast<size_t>(N), DynamicInputStats{});
  double total = 0;
  for (double f : nodeFlops) total += f;
  for (auto& in : r.inputs) in.flops = total / static_cast<double>(N);
  for (size_t k = 0; k < graph.nodes.size(); ++k) {
    const Node& n = graph.nodes[k];
    if (n.opType != "Conv" || n.inputs.empty() || graph.isInitializer(n.inputs[0])) continue;
    bool graphInput = false;  // the image itself is not an activation a layer can leave silent
    for (const auto& in : graph.inputs) graphInput |= in.name == n.inputs[0];
    if (graphInput) continue;
    const Tensor* a = (*ex)->value(n.inputs[0]);
    if (!a || a->rank() < 3 || a->dim(0) != N || a->dtype() != DType::Float) continue;
    int64_t C = a->dim(1), inner = a->numel() / (N * C);
    DynamicLayerStats ls;
    ls.node = n.label();
    ls.tensor = n.inputs[0];
    ls.channels = C;
    ls.flopsPerInput = nodeFlops[k] / static_cast<double>(N);
    const Tensor* w = (*ex)->value(n.inputs[1]);
    const Tensor* y = n.outputs.empty() ? nullptr : (*ex)->value(n.outputs[0]);
    if (!w || !y || w->rank() < 3 || w->dim(0) == 0) continue;
    const double macFlops = 2.0 * static_cast<double>(y->numel() / N) * static_cast<double>(w->numel() / w->dim(0));
    for (int64_t i = 0; i < N; ++i) {
      int64_t skipped = 0;
      for (int64_t c = 0; c < C; ++c) {
        const float* p = a->f() + (i * C + c) * inner;
        float mx = 0;
        for (int64_t j = 0; j < inner; ++j) mx = std::max(mx, std::fabs(p[j]));
        skipped += mx <= o.threshold;
      }
      // Each input channel carries 1/C of the Conv's multiply-adds (any group
      // count); the bias is added whatever is skipped. The executor's skipping
      // Conv (ExecutorOptions::dynamicSkipThreshold) counts the same way.
      double saved = macFlops * static_cast<double>(skipped) / static_cast<double>(C);
      ls.meanSkippedChannels += static_cast<double>(skipped) / static_cast<double>(N);
      ls.meanSavedFlops += saved / static_cast<double>(N);
      r.inputs[static_cast<size_t>(i)].savedFlops += saved;
    }
    r.layers.push_back(ls);
  }
  for (const auto& in : r.inputs) r.meanSavedFraction += in.flops > 0 ? in.savedFlops / in.flops / static_cast<double>(N) : 0;
  return r;
}

nlohmann::json dynamicToJson(const DynamicReport& r) {
  nlohmann::json j;
  j["threshold"] = r.threshold;
  j["mean_saved_fraction"] = r.meanSavedFraction;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers)
    layers.push_back({{"name", l.node}, {"tensor", l.tensor}, {"channels", l.channels},
                      {"mean_skipped_channels", l.meanSkippedChannels}, {"flops_per_input", l.flopsPerInput},
                      {"mean_saved_flops", l.meanSavedFlops}});
  j["layers"] = layers;
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& in : r.inputs) inputs.push_back({{"flops", in.flops}, {"saved_flops", in.savedFlops}});
  j["inputs"] = inputs;
  return j;
}

}  // namespace topiary
