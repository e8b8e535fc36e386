// folder:DIR, one subfolder of images per class, decoded by the app's
// ImageDecoder (the engine has no image codecs).
#include <algorithm>
#include <filesystem>

#include "data/loaders.h"

namespace topiary::data {

namespace fs = std::filesystem;

Result<Dataset> loadImageFolder(const std::string& dir, const DatasetOptions& options) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::badInput("folder not found: " + dir);
  if (!fs::is_directory(dir, ec)) return Status::badInput("not a folder: " + dir);
  const ImageDecoder& decode = imageDecoder();
  if (!decode) return Status::unsupported("reading image folders needs an image decoder, which this program lacks");
  // Hidden folders (.ipynb_checkpoints, .git) are no classes: one would
  // shift every label after it, as hidden files would be no images.
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory() && e.path().filename().string()[0] != '.') classes.push_back(e.path().filename().string());
  if (ec) return Status::badInput("cannot list " + dir + ": " + ec.message());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) return Status::badInput(dir + " has no class subfolders (expected DIR/<class>/<images>)");
  std::vector<std::vector<std::string>> files(classes.size());
  size_t total = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    for (const auto& e : fs::directory_iterator(fs::path(dir) / classes[c], ec))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') files[c].push_back(e.path().string());
    std::sort(files[c].begin(), files[c].end());
    total += files[c].size();
  }
  if (total == 0) return Status::badInput(dir + " contains no image files");
  constexpr int kSize = 28;
  int64_t n = options.limit > 0 ? std::min<int64_t>(static_cast<int64_t>(total), options.limit) : static_cast<int64_t>(total);
  Dataset ds;
  ds.numClasses = static_cast<int>(classes.size());
  ds.classNames = classes;
  ds.images = Tensor(DType::Float, {n, 1, kSize, kSize});
  float* x = ds.images.f();
  std::vector<uint8_t> pixels;
  std::vector<size_t> next(classes.size(), 0);
  const float scale = 1.f / (255.f * options.std), shift = options.mean / options.std;
  // Classes interleaved so that a limit keeps every class.
  for (size_t c = 0; static_cast<int64_t>(ds.labels.size()) < n; c = (c + 1) % classes.size()) {
    if (next[c] >= files[c].size()) continue;
    const std::string& path = files[c][next[c]++];
    std::string err;
    if (!decode(path, kSize, kSize, pixels, err)) return Status::badInput("cannot read image " + path + ": " + err);
    if (pixels.size() != kSize * kSize) return Status::internal("image decoder returned the wrong size for " + path);
    for (int p = 0; p < kSize * kSize; ++p) x[p] = static_cast<float>(pixels[static_cast<size_t>(p)]) * scale - shift;
    x += kSize * kSize;
    ds.labels.push_back(static_cast<int>(c));
  }
  return ds;
}

}  // namespace topiary::data
