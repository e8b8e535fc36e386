// Builds the key a kernel choice is remembered under (topiary/kernel_tune_cache.h).
#pragma once

#include <cstdint>
#include <string>

namespace topiary::kernels {

class TuneKey {
 public:
  explicit TuneKey(const char* op) : key_(op) {}
  TuneKey& add(int64_t v) {
    key_ += ',';
    key_ += std::to_string(v);
    return *this;
  }
  TuneKey& add(const std::string& s) {
    key_ += '|';
    key_ += s;
    return *this;
  }
  // FNV-1a over one bit per weight (zero or not) and the count.
  TuneKey& addZeroPattern(const float* w, int64_t n);
  const std::string& str() const { return key_; }

 private:
  std::string key_;
};

}  // namespace topiary::kernels
