// Architectures buildable by name (topiary-cli train --arch), as ONNX graphs
// with freshly initialised weights (He/Kaiming uniform, deterministic by seed),
// opset 13 (mobilenet-tiny: 14, the first opset with HardSwish).
// Input "input" [N, C, H, W] float32 with a symbolic batch, output "logits" [N, classes].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "topiary/graph.h"
#include "topiary/status.h"

namespace topiary {

struct ArchOptions {
  int inChannels = 1;
  int imageSize = 28;
  int classes = 10;
  uint64_t seed = 1;
};

// lenet5, lenet5-caffe, lenet-300-100, resnet8, mobilenet-tiny, vgg-small.
std::vector<std::string> architectureNames();
Result<Graph> buildArchitecture(const std::string& name, const ArchOptions& options = {});

}  // namespace topiary
