// IDX image + label files as a Dataset.
#include <algorithm>

#include "data/idx_reader.h"
#include "data/loaders.h"

namespace topiary::data {

Result<Dataset> loadIdxPair(const std::string& imagesPath, const std::string& labelsPath, const DatasetOptions& options) {
  auto images = readIdx(imagesPath, 3);
  if (!images) return images.status();
  auto labels = readIdx(labelsPath, 1);
  if (!labels) return labels.status();
  int64_t n = images->dims[0], h = images->dims[1], w = images->dims[2];
  if (labels->dims[0] != n)
    return Status::badInput(imagesPath + " holds " + std::to_string(n) + " images but " + labelsPath + " holds " +
                            std::to_string(labels->dims[0]) + " labels");
  if (options.limit > 0) n = std::min(n, options.limit);
  Dataset d;
  d.images = Tensor(DType::Float, {n, 1, h, w});
  float* x = d.images.f();
  const float scale = 1.f / (255.f * options.std), shift = options.mean / options.std;
  const uint8_t* px = images->values.data();
  for (int64_t i = 0; i < n * h * w; ++i) x[i] = static_cast<float>(px[i]) * scale - shift;
  d.labels.resize(static_cast<size_t>(n));
  int maxLabel = 0;
  for (int64_t i = 0; i < n; ++i) {
    int l = labels->values[static_cast<size_t>(i)];
    d.labels[static_cast<size_t>(i)] = l;
    maxLabel = std::max(maxLabel, l);
  }
  // Ten classes at least: a small subset may miss the last class.
  d.numClasses = std::max(10, maxLabel + 1);
  return d;
}

}  // namespace topiary::data
