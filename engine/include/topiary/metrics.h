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
};

// Measures the graph by running it once at batch 1 (shapes, FLOPs).
Result<ModelMetrics> measureModel(const Graph& graph);

// JSON with the design's keys: params, nonzero_params, flops, size_bytes, layers[].
nlohmann::json metricsToJson(const ModelMetrics& m);

}  // namespace topiary
