// Helpers shared by all tests.
#pragma once

#include <string>
#include <vector>

#include "topiary/executor.h"
#include "topiary/graph.h"
#include "topiary/tensor.h"

namespace testutil {

inline const char* kOnnxTestData = "/usr/share/libonnx-testdata/data";

std::string sourcePath(const std::string& rel);  // path under the source tree
std::string tempDir();                            // a fresh temporary folder for this process

// A built-in architecture (untrained) by name; aborts the test binary with the engine's message on failure.
topiary::Graph architecture(const std::string& name);

// Max |a-b| over elements; +inf when shapes or types differ.
double maxAbsDiff(const topiary::Tensor& a, const topiary::Tensor& b);
// Largest maxAbsDiff between two models' same-named initializers; -1 when
// the initializer names differ.
double weightDiff(const topiary::Graph& a, const topiary::Graph& b);
// ONNX backend test rule: |a-b| <= atol + rtol*|b| everywhere. Describes the worst element in `why`.
bool allClose(const topiary::Tensor& actual, const topiary::Tensor& expected, double rtol, double atol, std::string* why = nullptr);
// Runs a graph through our executor (built with `options`) and returns its
// outputs in order; on failure an empty vector, with the engine's message in *why.
// `inputs` are matched to the graph's inputs by name.
std::vector<topiary::Tensor> runOurs(const topiary::Graph& g, const std::vector<topiary::NamedTensor>& inputs,
                                     const topiary::ExecutorOptions& options, std::string* why);
// Same, for a graph with a single input.
std::vector<topiary::Tensor> runOurs(const topiary::Graph& g, const topiary::Tensor& input,
                                     const topiary::ExecutorOptions& options, std::string* why);
// How many lines of a log (e.g. Executor::optimizationLog()) contain `needle`.
int countLines(const std::vector<std::string>& log, const std::string& needle);

}  // namespace testutil
