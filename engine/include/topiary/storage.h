// Honest storage models for pruned (and quantized) weights: what each sparse
// format costs in bits, with the index overhead counted separately from the
// values, at a given weight bit-width. This is where the teaching point lives:
// at 32 bits a 90%-sparse CSR tensor is small, at 4 bits its column indices
// cost more than its values.
//
// Formats (per prunable weight, seen as [outUnits, inUnits*kernel]):
//   dense       every value, no index
//   bitmask     nonzero values + 1 bit per weight
//   csr         nonzero values + (rows+1) row pointers of ceil(log2(nnz+1))
//               bits + one ceil(log2(cols)) bit column index per nonzero
//   relative    Han et al. (Deep Compression): nonzeros in memory order, each
//               with a p-bit gap to the previous one (p = 8 for Conv, 4 for
//               Gemm/MatMul); a gap larger than 2^p inserts a filler zero
//               (a stored zero value with the largest gap)
//   nm          N:M (n, m given): n values per group of m along the input
//               dimension + metadata: 2 bits per kept value for 2:4 (the
//               sparse-tensor-core format), ceil(log2(C(m,n))) bits per group
//               otherwise; only applicable when every group has <= n nonzeros
//   structured  dense storage of what remains after dropping all-zero output
//               units and all-zero input units (the physically pruned shape)
// Quantized weights (bits < 32) also pay for their scales: one 32-bit float
// per output unit (per-channel) or per tensor, counted as scaleBits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topiary/graph.h"
#include "topiary/prune.h"

namespace topiary {

enum class StorageFormat { Dense, Bitmask, Csr, RelativeIndex, NM, Structured };
const char* storageFormatName(StorageFormat f);  // dense, bitmask, csr, relative_index, nm, structured
std::vector<StorageFormat> allStorageFormats();

struct StorageCost {
  bool applicable = true;   // false: the tensor does not have the structure (nm)
  int64_t valueBits = 0;    // stored values (including padding/filler zeros)
  int64_t indexBits = 0;    // positions: bitmask, pointers, indices, gaps, N:M metadata
  int64_t total() const { return valueBits + indexBits; }
};

// Bits to index `count` distinct positions: ceil(log2(count)), at least 1.
int bitsFor(int64_t count);

// Cost models on a raw weight buffer (zeros are pruned weights).
StorageCost denseCost(int64_t numel, int bits);
StorageCost bitmaskCost(const float* w, int64_t numel, int bits);
StorageCost csrCost(const PrunableLayer& L, const float* w, int bits);
// Han et al. relative indexing over w[0..numel) in memory order with `gapBits`-bit gaps.
StorageCost relativeIndexCost(const float* w, int64_t numel, int bits, int gapBits);
StorageCost nmCost(const PrunableLayer& L, const float* w, int n, int m, int bits);
StorageCost structuredCost(const PrunableLayer& L, const float* w, int bits);
// Gap bits Deep Compression uses for the layer: 8 for Conv, 4 otherwise.
int relativeIndexBitsFor(const PrunableLayer& L);

struct LayerStorage {
  std::string node;
  std::string weight;
  int64_t numel = 0;
  int64_t nonzeros = 0;
  int64_t scaleBits = 0;  // quantization scales (bits < 32)
  std::map<StorageFormat, StorageCost> formats;
};

struct StorageOptions {
  int bits = 32;          // weight bit-width: 32, 16, 8, 4, 2, 1
  bool perChannel = true; // scales per output unit (bits < 32)
  int n = 2, m = 4;       // the N:M pattern to price
};

// Storage of a whole model under each format. Prunable weights use the
// format; every other float parameter (biases, BatchNorm) is stored dense at
// 32 bits (otherBits). A format that does not apply to a layer prices that
// layer dense (denseFallbacks counts them).
struct ModelStorage {
  StorageOptions options;
  std::vector<LayerStorage> layers;
  int64_t otherBits = 0;
  struct Total {
    int64_t valueBits = 0, indexBits = 0, scaleBits = 0;
    int denseFallbacks = 0;
    int64_t bits() const { return valueBits + indexBits + scaleBits; }
    double bytes() const { return static_cast<double>(bits()) / 8.0; }
  };
  std::map<StorageFormat, Total> totals;  // including otherBits in valueBits
};

ModelStorage measureStorage(const Graph& graph, const StorageOptions& options = {});
nlohmann::json storageToJson(const ModelStorage& s);

}  // namespace topiary
