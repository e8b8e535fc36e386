// ONNX Runtime as a reference in tests: runs models through tools/ort/run.mjs
// (Node + the npm package onnxruntime-node) and reads the outputs back.
#pragma once

#include <string>
#include <vector>

#include "topiary/tensor.h"

namespace testutil {

// Empty when ONNX Runtime can be used; otherwise the reason it cannot
// (node missing, node_modules/onnxruntime-node missing).
std::string ortUnavailableReason();

struct OrtJob {
  std::string model;                        // path of an .onnx file
  std::vector<topiary::NamedTensor> inputs;  // matched by name
  int threads = 1;
  int warmup = 0;
  int runs = 0;  // timed runs (0: one untimed run)
};

struct OrtReport {
  std::string error;  // empty on success (ORT's message otherwise)
  std::vector<topiary::NamedTensor> outputs;
  double medianMs = 0, minMs = 0, maxMs = 0;
};

// Runs every job in one Node process (Node and ORT start-up dominate small
// models). The result has one report per job; if the runner itself fails,
// every report carries that error.
std::vector<OrtReport> runOrtJobs(const std::vector<OrtJob>& jobs);
OrtReport runOrt(const OrtJob& job);

// The parity criterion: the largest |ours - ref| / max(1, |ref|) over the
// elements (NaN must match NaN, equal infinities match), and in *absDiff the
// largest |ours - ref|. +inf on a shape or type mismatch or a NaN disagreement.
double scaledDiff(const topiary::Tensor& ours, const topiary::Tensor& ref, double* absDiff);

}  // namespace testutil
