// ONNX in and out: ModelProto <-> Graph, TensorProto <-> Tensor, and the
// official onnx::checker. Everything here rejects malformed input with a
// BadInput status instead of crashing.
#pragma once

#include <cstdint>
#include <string>

#include "topiary/graph.h"
#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

struct LoadLimits {
  uint64_t maxFileBytes = uint64_t(4) << 30;    // refuse larger files
  uint64_t maxTensorBytes = uint64_t(4) << 30;  // refuse any tensor that would need more
  uint64_t maxTotalBytes = uint64_t(8) << 30;   // sum over all initializers
  int maxNodes = 1000000;
};

// Loads a model file. `path`'s folder is the base for external data, whose
// paths may not leave that folder.
Result<Graph> loadModel(const std::string& path, const LoadLimits& limits = {});
// Parses serialized ModelProto bytes. externalDataDir "" disables external data.
Result<Graph> loadModelFromBytes(const std::string& bytes, const std::string& externalDataDir = "",
                                 const LoadLimits& limits = {});

// Serializes the graph as a ModelProto.
Result<std::string> serializeModel(const Graph& g);
// Saves atomically; refuses to overwrite `protect` (the source model) when given.
Status saveModel(const Graph& g, const std::string& path, const std::string& protect = std::string());

// Runs onnx::checker (full check) on the serialized graph.
Status checkModel(const Graph& g);
Status checkModelBytes(const std::string& bytes);

// TensorProto files (the format of ONNX's test data).
Result<NamedTensor> loadTensorProto(const std::string& path, const LoadLimits& limits = {});
Result<NamedTensor> parseTensorProto(const std::string& bytes, const LoadLimits& limits = {});
Result<std::string> serializeTensorProto(const Tensor& t, const std::string& name);
Status saveTensorProto(const Tensor& t, const std::string& name, const std::string& path);

}  // namespace topiary
