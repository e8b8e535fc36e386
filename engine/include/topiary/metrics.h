// Model metrics: parameters, nonzeros and FLOPs, per layer and in total.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topiary/graph.h"
#include "topiary/status.h"

namespace topiary {

struct LayerMetrics {
  std::string name;  // node label
  std::string op;
  int64_t params = 0;          // elements of the float initializers the node reads
  int64_t nonzeroParams = 0;
  double flops = 0;            // dense FLOPs at batch 1 (multiply-add = 2)
  std::string outputShape;
};

struct ModelMetrics {
  int64_t params = 0;
  int64_t nonzeroParams = 0;
  double flops = 0;
  int64_t sizeBytes = 0;  // serialized ONNX size
  std::vector<LayerMetrics> layers;
  // Empty when shapes and FLOPs were measured. Otherwise why not: the run on
  // zero inputs failed (an input that carries a shape, say), and flops and
  // output shapes are left 0 and empty while the parameters are counted.
  std::string flopsUnknown;
};

// Measures the graph by running it once at batch 1 on zeros (shapes, FLOPs);
// fails only when no executor can be built (see ModelMetrics::flopsUnknown).
Result<ModelMetrics> measureModel(const Graph& graph);

// JSON with the design's keys: params, nonzero_params, flops, size_bytes, layers[].
nlohmann::json metricsToJson(const ModelMetrics& m);

}  // namespace topiary
