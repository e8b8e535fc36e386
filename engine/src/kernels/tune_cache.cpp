#include "topiary/kernel_tune_cache.h"

#include "kernels/tune_key.h"

namespace topiary {

int KernelTuneCache::find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = choices_.find(key);
  if (it == choices_.end()) {
    ++misses_;
    return -1;
  }
  ++hits_;
  return it->second;
}

void KernelTuneCache::store(const std::string& key, int choice) {
  std::lock_guard<std::mutex> lock(mutex_);
  choices_[key] = choice;
}

size_t KernelTuneCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return choices_.size();
}

size_t KernelTuneCache::hits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

size_t KernelTuneCache::misses() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return misses_;
}

void KernelTuneCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  choices_.clear();
  hits_ = misses_ = 0;
}

namespace kernels {

TuneKey& TuneKey::addZeroPattern(const float* w, int64_t n) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  uint64_t bits = 0;
  for (int64_t i = 0; i < n; ++i) {
    bits = (bits << 1) | (w[i] != 0.f ? 1u : 0u);
    if ((i & 63) == 63) {
      mix(bits);
      bits = 0;
    }
  }
  mix(bits);
  mix(static_cast<uint64_t>(n));
  char hex[20];
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) hex[i] = digits[(h >> (60 - 4 * i)) & 0xf];
  return add(std::string(hex, 16));
}

}  // namespace kernels
}  // namespace topiary
