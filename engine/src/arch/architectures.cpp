// The architectures `topiary-cli train --arch` builds. Shapes assume the
// options' image size (28 for the MNIST family); every graph ends in a Gemm
// named "fc*" whose output is "logits".
#include <functional>

#include "arch/graph_builder.h"
#include "topiary/arch.h"

namespace topiary {

namespace {

using arch::GraphBuilder;

// Output side of a kernel-k, stride-s, pad-p window over n.
int64_t outSize(int64_t n, int64_t k, int64_t s, int64_t p) { return (n + 2 * p - k) / s + 1; }

// Classic LeNet-5 (LeCun 1998) with ReLU and max pooling: 6 and 16 5x5
// filters, then 120-84-classes fully connected (61,706 parameters at 28x28).
Result<Graph> lenet5(const ArchOptions& o) {
  GraphBuilder b("lenet5", o.seed);
  std::string x = b.input("input", {o.inChannels, o.imageSize, o.imageSize});
  x = b.relu(b.conv(x, "conv1", o.inChannels, 6, 5, 1, 2), "relu1");
  x = b.maxPool(x, "pool1", 2, 2);
  int64_t s = outSize(o.imageSize, 2, 2, 0);
  x = b.relu(b.conv(x, "conv2", 6, 16, 5), "relu2");
  s = outSize(outSize(s, 5, 1, 0), 2, 2, 0);
  x = b.maxPool(x, "pool2", 2, 2);
  x = b.flatten(x, "flatten");
  x = b.relu(b.gemm(x, "fc1", 16 * s * s, 120), "relu3");
  x = b.relu(b.gemm(x, "fc2", 120, 84), "relu4");
  x = b.gemm(x, "fc3", 84, o.classes);
  b.output(x, "logits", {o.classes});
  return b.finish();
}

// Caffe's LeNet (20 and 50 5x5 filters, 500 hidden units; 431,080 parameters
// at 28x28), the model of the Deep Compression and DNS papers. ReLU after the
// convolutions, which Caffe's version leaves linear, for better accuracy.
Result<Graph> lenet5Caffe(const ArchOptions& o) {
  GraphBuilder b("lenet5-caffe", o.seed);
  std::string x = b.input("input", {o.inChannels, o.imageSize, o.imageSize});
  x = b.maxPool(b.relu(b.conv(x, "conv1", o.inChannels, 20, 5), "relu1"), "pool1", 2, 2);
  int64_t s = outSize(outSize(o.imageSize, 5, 1, 0), 2, 2, 0);
  x = b.maxPool(b.relu(b.conv(x, "conv2", 20, 50, 5), "relu2"), "pool2", 2, 2);
  s = outSize(outSize(s, 5, 1, 0), 2, 2, 0);
  x = b.flatten(x, "flatten");
  x = b.relu(b.gemm(x, "fc1", 50 * s * s, 500), "relu3");
  x = b.gemm(x, "fc2", 500, o.classes);
  b.output(x, "logits", {o.classes});
  return b.finish();
}

// LeNet-300-100: the fully connected network of the pruning literature.
Result<Graph> lenet300100(const ArchOptions& o) {
  GraphBuilder b("lenet-300-100", o.seed);
  std::string x = b.input("input", {o.inChannels, o.imageSize, o.imageSize});
  x = b.flatten(x, "flatten");
  x = b.relu(b.gemm(x, "fc1", o.inChannels * o.imageSize * o.imageSize, 300), "relu1");
  x = b.relu(b.gemm(x, "fc2", 300, 100), "relu2");
  x = b.gemm(x, "fc3", 100, o.classes);
  b.output(x, "logits", {o.classes});
  return b.finish();
}

// conv -> BatchNorm (the conv has no bias: BatchNorm's shift replaces it).
std::string convBn(GraphBuilder& b, const std::string& x, const std::string& name, int64_t inC, int64_t outC,
                   int64_t k, int64_t stride, int64_t groups = 1) {
  std::string c = b.conv(x, name, inC, outC, k, stride, k / 2, groups, false);
  return b.batchNorm(c, name + "_bn", outC);
}

// A basic residual block; a strided 1x1 conv + BatchNorm projects the
// shortcut when the shape changes.
std::string residualBlock(GraphBuilder& b, const std::string& x, const std::string& name, int64_t inC, int64_t outC,
                          int64_t stride) {
  std::string y = b.relu(convBn(b, x, name + "_conv1", inC, outC, 3, stride), name + "_relu1");
  y = convBn(b, y, name + "_conv2", outC, outC, 3, 1);
  std::string shortcut = x;
  if (stride != 1 || inC != outC) shortcut = convBn(b, x, name + "_proj", inC, outC, 1, stride);
  return b.relu(b.add(y, shortcut, name + "_add"), name + "_relu2");
}

// ResNet-8: a 3x3 stem and three basic blocks of 16, 32 and 64 channels
// (the last two strided, with projection shortcuts), global average pooling.
Result<Graph> resnet8(const ArchOptions& o) {
  GraphBuilder b("resnet8", o.seed);
  std::string x = b.input("input", {o.inChannels, o.imageSize, o.imageSize});
  x = b.relu(convBn(b, x, "stem", o.inChannels, 16, 3, 1), "stem_relu");
  x = residualBlock(b, x, "block1", 16, 16, 1);
  x = residualBlock(b, x, "block2", 16, 32, 2);
  x = residualBlock(b, x, "block3", 32, 64, 2);
  x = b.flatten(b.globalAveragePool(x, "gap"), "flatten");
  x = b.gemm(x, "fc", 64, o.classes);
  b.output(x, "logits", {o.classes});
  return b.finish();
}

// Squeeze-and-excite: per-channel gates from the pooled features.
std::string squeezeExcite(GraphBuilder& b, const std::string& x, const std::string& name, int64_t c) {
  int64_t mid = std::max<int64_t>(4, c / 4);
  std::string s = b.globalAveragePool(x, name + "_pool");
  s = b.relu(b.conv(s, name + "_reduce", c, mid, 1), name + "_relu");
  s = b.hardSigmoid(b.conv(s, name + "_expand", mid, c, 1), name + "_gate");
  return b.mul(x, s, name + "_scale");
}

// Depthwise-separable block: depthwise 3x3 + BN + HardSwish, squeeze-excite,
// pointwise 1x1 + BN + HardSwish.
std::string separableBlock(GraphBuilder& b, const std::string& x, const std::string& name, int64_t inC, int64_t outC,
                           int64_t stride) {
  std::string y = b.hardSwish(convBn(b, x, name + "_dw", inC, inC, 3, stride, inC), name + "_dw_act");
  y = squeezeExcite(b, y, name + "_se", inC);
  return b.hardSwish(convBn(b, y, name + "_pw", inC, outC, 1, 1), name + "_pw_act");
}

// A MobileNetV3-flavoured small network. Opset 14, the first with HardSwish.
Result<Graph> mobilenetTiny(const ArchOptions& o) {
  GraphBuilder b("mobilenet-tiny", o.seed, 14);
  std::string x = b.input("input", {o.inChannels, o.imageSize, o.imageSize});
  x = b.hardSwish(convBn(b, x, "stem", o.inChannels, 16, 3, 1), "stem_act");
  x = separableBlock(b, x, "block1", 16, 32, 1);
  x = separableBlock(b, x, "block2", 32, 64, 2);
  x = separableBlock(b, x, "block3", 64, 96, 2);
  x = separableBlock(b, x, "block4", 96, 128, 1);
  x = b.flatten(b.globalAveragePool(x, "gap"), "flatten");
  x = b.gemm(x, "fc", 128, o.classes);
  b.output(x, "logits", {o.classes});
  return b.finish();
}

// VGG-style: two 3x3 conv pairs (32, 64) with BatchNorm and max pooling, then 256-classes.
Result<Graph> vggSmall(const ArchOptions& o) {
  GraphBuilder b("vgg-small", o.seed);
  std::string x = b.input("input", {o.inChannels, o.imageSize, o.imageSize});
  x = b.relu(convBn(b, x, "conv1", o.inChannels, 32, 3, 1), "relu1");
  x = b.relu(convBn(b, x, "conv2", 32, 32, 3, 1), "relu2");
  x = b.maxPool(x, "pool1", 2, 2);
  x = b.relu(convBn(b, x, "conv3", 32, 64, 3, 1), "relu3");
  x = b.relu(convBn(b, x, "conv4", 64, 64, 3, 1), "relu4");
  x = b.maxPool(x, "pool2", 2, 2);
  int64_t s = outSize(outSize(o.imageSize, 2, 2, 0), 2, 2, 0);
  x = b.flatten(x, "flatten");
  x = b.relu(b.gemm(x, "fc1", 64 * s * s, 256), "relu5");
  x = b.gemm(x, "fc2", 256, o.classes);
  b.output(x, "logits", {o.classes});
  return b.finish();
}

struct ArchEntry {
  const char* name;
  std::function<Result<Graph>(const ArchOptions&)> build;
  int64_t minImage;
};

const std::vector<ArchEntry>& table() {
  static const std::vector<ArchEntry> t = {
      {"lenet5", lenet5, 12},           {"lenet5-caffe", lenet5Caffe, 16}, {"lenet-300-100", lenet300100, 1},
      {"resnet8", resnet8, 4},          {"mobilenet-tiny", mobilenetTiny, 4}, {"vgg-small", vggSmall, 4},
  };
  return t;
}

}  // namespace

std::vector<std::string> architectureNames() {
  std::vector<std::string> names;
  for (const auto& e : table()) names.push_back(e.name);
  return names;
}

Result<Graph> buildArchitecture(const std::string& name, const ArchOptions& options) {
  for (const auto& e : table()) {
    if (name != e.name) continue;
    if (options.inChannels < 1 || options.classes < 2 || options.imageSize < e.minImage)
      return Status::badInput("architecture '" + name + "' needs at least 1 input channel, 2 classes and images of " +
                              std::to_string(e.minImage) + " pixels or more");
    return e.build(options);
  }
  std::string list;
  for (const auto& n : architectureNames()) list += (list.empty() ? "" : ", ") + n;
  return Status::badInput("unknown architecture '" + name + "'; choose one of: " + list);
}

}  // namespace topiary
