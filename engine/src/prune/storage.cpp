// Storage cost models of sparse formats (see storage.h for the definitions).
#include "topiary/storage.h"

#include <cmath>
#include <set>

namespace topiary {

const char* storageFormatName(StorageFormat f) {
  switch (f) {
    case StorageFormat::Dense: return "dense";
    case StorageFormat::Bitmask: return "bitmask";
    case StorageFormat::Csr: return "csr";
    case StorageFormat::RelativeIndex: return "relative_index";
    case StorageFormat::NM: return "nm";
    case StorageFormat::Structured: return "structured";
  }
  return "?";
}

std::vector<StorageFormat> allStorageFormats() {
  return {StorageFormat::Dense, StorageFormat::Bitmask, StorageFormat::Csr, StorageFormat::RelativeIndex,
          StorageFormat::NM, StorageFormat::Structured};
}

int bitsFor(int64_t count) {
  int b = 1;
  while (b < 63 && (int64_t(1) << b) < count) ++b;
  return b;
}

namespace {
int64_t countNonzeros(const float* w, int64_t n) {
  int64_t z = 0;
  for (int64_t i = 0; i < n; ++i) z += w[i] != 0.f;
  return z;
}

// log2 of the binomial coefficient C(m, n), rounded up.
int combinationBits(int m, int n) {
  double c = 1;
  for (int i = 1; i <= n; ++i) c = c * (m - n + i) / i;
  int64_t count = static_cast<int64_t>(std::llround(c));
  return count <= 1 ? 0 : bitsFor(count);
}
}  // namespace

StorageCost denseCost(int64_t numel, int bits) { return {true, numel * bits, 0}; }

StorageCost bitmaskCost(const float* w, int64_t numel, int bits) {
  return {true, countNonzeros(w, numel) * bits, numel};
}

StorageCost csrCost(const PrunableLayer& L, const float* w, int bits) {
  int64_t rows = L.outUnits, cols = L.inUnits * L.kernelSize;
  int64_t nnz = 0;
  for (int64_t o = 0; o < L.outUnits; ++o)
    for (int64_t c = 0; c < L.inUnits; ++c)
      for (int64_t k = 0; k < L.kernelSize; ++k) nnz += w[L.index(o, c, k)] != 0.f;
  StorageCost s;
  s.valueBits = nnz * bits;
  s.indexBits = (rows + 1) * bitsFor(nnz + 1) + nnz * bitsFor(cols);
  return s;
}

StorageCost relativeIndexCost(const float* w, int64_t numel, int bits, int gapBits) {
  const int64_t maxGap = int64_t(1) << gapBits;  // gaps 1..2^p stored as gap-1
  int64_t entries = 0, last = -1;
  for (int64_t i = 0; i < numel; ++i) {
    if (w[i] == 0.f) continue;
    int64_t gap = i - last;
    entries += (gap - 1) / maxGap;  // filler zeros, each advancing by maxGap
    ++entries;
    last = i;
  }
  return {true, entries * bits, entries * gapBits};
}

int relativeIndexBitsFor(const PrunableLayer& L) { return L.op == "Conv" ? 8 : 4; }

namespace {
StorageCost nmTapCost(const PrunableLayer& L, const float* w, int n, int m, int bits);
// Kernel-wise N:M ("nm_pattern": "kernel"): of every m consecutive input
// channels of a filter at most n kernels hold a nonzero. Each kept kernel is
// stored whole (kh*kw values) with ONE index for the group (2 bits per kept
// kernel for 2:4, as the hardware format; else log2 C(m, n) per group), not
// one per weight. Not applicable (applicable = false) when the pattern fails.
StorageCost nmKernelCost(const PrunableLayer& L, const float* w, int n, int m, int bits) {
  StorageCost s;
  const bool nvidia24 = n == 2 && m == 4;
  for (int64_t o = 0; o < L.outUnits; ++o)
    for (int64_t start = 0; start < L.inUnits; start += m) {
      const int len = static_cast<int>(std::min<int64_t>(m, L.inUnits - start));
      const int keep = std::min(n, len);
      int nz = 0;
      for (int64_t c = start; c < start + len; ++c) {
        bool any = false;
        for (int64_t k = 0; k < L.kernelSize && !any; ++k) any = w[L.index(o, c, k)] != 0.f;
        nz += any;
      }
      if (nz > keep) {
        s.applicable = false;
        return s;
      }
      s.valueBits += int64_t(keep) * L.kernelSize * bits;
      s.indexBits += nvidia24 ? int64_t(keep) * 2 : combinationBits(len, keep);
    }
  return s;
}
}  // namespace

StorageCost nmCost(const PrunableLayer& L, const float* w, int n, int m, int bits) {
  // Weights with a kernel-wise pattern are priced both ways; the cheaper
  // applicable one counts (the kernel-wise index is one per kept kernel).
  StorageCost k;
  k.applicable = false;
  if (L.kernelSize > 1) k = nmKernelCost(L, w, n, m, bits);
  StorageCost t = nmTapCost(L, w, n, m, bits);
  if (!k.applicable) return t;
  if (!t.applicable) return k;
  return k.valueBits + k.indexBits <= t.valueBits + t.indexBits ? k : t;
}

namespace {
StorageCost nmTapCost(const PrunableLayer& L, const float* w, int n, int m, int bits) {
  StorageCost s;
  int64_t R = L.inUnits * L.kernelSize;
  bool nvidia24 = n == 2 && m == 4;
  for (int64_t o = 0; o < L.outUnits; ++o)
    for (int64_t start = 0; start < R; start += m) {
      int len = static_cast<int>(std::min<int64_t>(m, R - start));
      int keep = std::min(n, len), nz = 0;
      for (int64_t r = start; r < start + len; ++r) nz += w[L.index(o, r % L.inUnits, r / L.inUnits)] != 0.f;
      if (nz > keep) {
        s.applicable = false;
        return s;
      }
      s.valueBits += int64_t(keep) * bits;
      s.indexBits += nvidia24 ? int64_t(keep) * 2 : combinationBits(len, keep);
    }
  return s;
}
}  // namespace

StorageCost structuredCost(const PrunableLayer& L, const float* w, int bits) {
  std::vector<char> outUsed(static_cast<size_t>(L.outUnits), 0), inUsed(static_cast<size_t>(L.inUnits), 0);
  for (int64_t o = 0; o < L.outUnits; ++o)
    for (int64_t c = 0; c < L.inUnits; ++c)
      for (int64_t k = 0; k < L.kernelSize; ++k)
        if (w[L.index(o, c, k)] != 0.f) outUsed[static_cast<size_t>(o)] = inUsed[static_cast<size_t>(c)] = 1;
  int64_t ko = 0, ki = 0;
  for (char u : outUsed) ko += u;
  for (char u : inUsed) ki += u;
  return {true, ko * ki * L.kernelSize * bits, 0};
}

ModelStorage measureStorage(const Graph& graph, const StorageOptions& opt) {
  ModelStorage ms;
  ms.options = opt;
  auto layers = findPrunableLayers(graph);
  std::set<std::string> prunable;
  for (const auto& L : layers) {
    prunable.insert(L.weight);
    const Tensor& t = graph.initializers.at(L.weight);
    const float* w = t.f();
    LayerStorage ls;
    ls.node = L.node;
    ls.weight = L.weight;
    ls.numel = t.numel();
    ls.nonzeros = countNonzeros(w, t.numel());
    if (opt.bits < 32) ls.scaleBits = 32 * (opt.perChannel ? L.outUnits : 1);
    ls.formats[StorageFormat::Dense] = denseCost(t.numel(), opt.bits);
    ls.formats[StorageFormat::Bitmask] = bitmaskCost(w, t.numel(), opt.bits);
    ls.formats[StorageFormat::Csr] = csrCost(L, w, opt.bits);
    ls.formats[StorageFormat::RelativeIndex] = relativeIndexCost(w, t.numel(), opt.bits, relativeIndexBitsFor(L));
    ls.formats[StorageFormat::NM] = nmCost(L, w, opt.n, opt.m, opt.bits);
    ls.formats[StorageFormat::Structured] = structuredCost(L, w, opt.bits);
    ms.layers.push_back(std::move(ls));
  }
  for (const auto& kv : graph.initializers)
    if (kv.second.dtype() == DType::Float && !prunable.count(kv.first)) ms.otherBits += kv.second.numel() * 32;
  for (StorageFormat f : allStorageFormats()) {
    ModelStorage::Total t;
    t.valueBits = ms.otherBits;
    for (const auto& l : ms.layers) {
      StorageCost c = l.formats.at(f);
      if (!c.applicable) {
        c = l.formats.at(StorageFormat::Dense);
        ++t.denseFallbacks;
      }
      t.valueBits += c.valueBits;
      t.indexBits += c.indexBits;
      t.scaleBits += l.scaleBits;
    }
    ms.totals[f] = t;
  }
  return ms;
}

nlohmann::json storageToJson(const ModelStorage& s) {
  nlohmann::json j;
  j["bits"] = s.options.bits;
  j["per_channel"] = s.options.perChannel;
  j["nm"] = std::to_string(s.options.n) + ":" + std::to_string(s.options.m);
  j["other_params_bits"] = s.otherBits;
  nlohmann::json formats = nlohmann::json::object();
  for (const auto& kv : s.totals)
    formats[storageFormatName(kv.first)] = {{"value_bits", kv.second.valueBits},
                                            {"index_bits", kv.second.indexBits},
                                            {"scale_bits", kv.second.scaleBits},
                                            {"bytes", (kv.second.bits() + 7) / 8},  // whole bytes
                                            {"dense_fallback_layers", kv.second.denseFallbacks}};
  j["formats"] = formats;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : s.layers) {
    nlohmann::json e = {{"name", l.node}, {"weight", l.weight}, {"params", l.numel}, {"nonzero_params", l.nonzeros},
                        {"scale_bits", l.scaleBits}};
    for (const auto& kv : l.formats) {
      if (!kv.second.applicable) e[storageFormatName(kv.first)] = nullptr;
      else e[storageFormatName(kv.first)] = {{"value_bits", kv.second.valueBits}, {"index_bits", kv.second.indexBits}};
    }
    layers.push_back(e);
  }
  j["layers"] = layers;
  return j;
}

}  // namespace topiary
