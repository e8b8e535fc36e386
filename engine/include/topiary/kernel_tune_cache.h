// Kernel choices remembered across executors. A Conv or Gemm with frozen
// weights (ExecutorOptions::optimizeForInference) times every kernel that
// applies on its first batch and keeps the fastest; that timing is most of
// the cost of building and first running an executor on a small model. The
// workbench's preview builds a new executor per edit, and an edit changes
// one layer: with one cache shared by those executors, the unchanged layers
// reuse their choice instead of timing again.
//
// A choice is keyed by the operator, its input and weight shapes, its
// attributes, the thread count, the batch class (one image or more; a Gemm
// also tells up to 8 rows from more), and a hash of the
// weights' zero pattern (which is what the sparse kernels' speed depends
// on; the values themselves do not matter). Thread-safe: the shards of one
// executor and concurrent executors may share one cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace topiary {

class KernelTuneCache {
 public:
  // The remembered choice for `key`, or -1 (counts a hit or a miss).
  int find(const std::string& key);
  void store(const std::string& key, int choice);
  size_t size() const;
  size_t hits() const;
  size_t misses() const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> choices_;
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace topiary
