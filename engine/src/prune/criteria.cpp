// Importance criteria: per-unit scores of a layer's weight (higher = keep),
// and the first-order Taylor saliency computed from a few batches.
#include <cmath>
#include <functional>

#include "topiary/prune.h"

namespace topiary {
namespace {

// Deterministic across platforms (std distributions are not).
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<float> randomScores(size_t count, uint64_t seed, const std::string& salt) {
  uint64_t state = seed ^ std::hash<std::string>{}(salt);
  std::vector<float> s(count);
  for (auto& v : s) v = static_cast<float>(splitmix64(state) >> 40) / static_cast<float>(1 << 24);
  return s;
}

// Per-element magnitude-like value the unit criteria aggregate.
inline float elementValue(Criterion c, float w, const float* sal, int64_t i) {
  switch (c) {
    case Criterion::L1: return std::fabs(w);
    case Criterion::L2: return w * w;
    case Criterion::Taylor: return sal[i];
    default: return 0.f;
  }
}

// Aggregates element values over a unit: l1 mean |w|, l2 sqrt(mean w^2)
// (means, so units of different sizes compare), taylor sum of saliencies.
inline float finish(Criterion c, double acc, int64_t count) {
  if (count == 0) return 0.f;
  switch (c) {
    case Criterion::L1: return static_cast<float>(acc / static_cast<double>(count));
    case Criterion::L2: return static_cast<float>(std::sqrt(acc / static_cast<double>(count)));
    default: return static_cast<float>(acc);
  }
}

}  // namespace

Result<std::vector<float>> unitScores(const PrunableLayer& L, const Tensor& weight, Granularity g, Criterion c,
                                      const Tensor* saliency, uint64_t seed) {
  if (weight.numel() != L.numel() || weight.dtype() != DType::Float)
    return Status::badInput("weight '" + L.weight + "' does not match layer '" + L.node + "'");
  if (c == Criterion::BnScale)
    return Status::badInput("criterion 'bn_scale' ranks BatchNorm channels; layer '" + L.node +
                            "' needs granularity filter, channel or neuron for it");
  if (c == Criterion::Taylor && (!saliency || saliency->numel() != weight.numel()))
    return Status::badInput("criterion 'taylor' on layer '" + L.node + "' needs data (gradients); give --data");
  const float* w = weight.f();
  const float* sal = saliency ? saliency->f() : nullptr;
  std::vector<float> out;
  switch (g) {
    case Granularity::Element:
    case Granularity::NM: {
      int64_t n = weight.numel();
      if (c == Criterion::Random) return randomScores(static_cast<size_t>(n), seed, L.weight);
      out.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        out[static_cast<size_t>(i)] = c == Criterion::Taylor ? sal[i] : std::fabs(w[i]);
      return out;
    }
    case Granularity::Kernel: {
      size_t units = static_cast<size_t>(L.outUnits * L.inUnits);
      if (c == Criterion::Random) return randomScores(units, seed, L.weight);
      out.resize(units);
      for (int64_t o = 0; o < L.outUnits; ++o)
        for (int64_t ci = 0; ci < L.inUnits; ++ci) {
          double acc = 0;
          for (int64_t k = 0; k < L.kernelSize; ++k) {
            int64_t i = L.index(o, ci, k);
            acc += elementValue(c, w[i], sal, i);
          }
          out[static_cast<size_t>(o * L.inUnits + ci)] = finish(c, acc, L.kernelSize);
        }
      return out;
    }
    case Granularity::Filter:
    case Granularity::Neuron:
    case Granularity::Channel:
    case Granularity::Layer: {
      bool byIn = g == Granularity::Channel;
      int64_t units = g == Granularity::Layer ? 1 : byIn ? L.inUnits : L.outUnits;
      if (c == Criterion::Random) return randomScores(static_cast<size_t>(units), seed, L.weight);
      std::vector<double> acc(static_cast<size_t>(units), 0.0);
      for (int64_t o = 0; o < L.outUnits; ++o)
        for (int64_t ci = 0; ci < L.inUnits; ++ci)
          for (int64_t k = 0; k < L.kernelSize; ++k) {
            int64_t i = L.index(o, ci, k);
            int64_t u = g == Granularity::Layer ? 0 : byIn ? ci : o;
            acc[static_cast<size_t>(u)] += elementValue(c, w[i], sal, i);
          }
      int64_t per = L.numel() / units;
      out.resize(static_cast<size_t>(units));
      for (int64_t u = 0; u < units; ++u) out[static_cast<size_t>(u)] = finish(c, acc[static_cast<size_t>(u)], per);
      return out;
    }
  }
  return Status::internal("unknown granularity");
}

Result<TaylorSaliency> taylorSaliency(const Graph& graph, const Dataset& data, int batches, int batchSize,
                                      const std::vector<std::string>& activationNames, int threads) {
  if (data.size() == 0) return Status::badInput("the data set '" + data.name + "' is empty");
  batches = std::max(1, batches);
  batchSize = std::max(1, batchSize);
  TaylorSaliency out;
  Tensor images;
  std::vector<int> labels;
  int done = 0;
  for (int b = 0; b < batches; ++b) {
    int64_t begin = (static_cast<int64_t>(b) * batchSize) % data.size();
    int64_t count = std::min<int64_t>(batchSize, data.size() - begin);
    data.batch(begin, count, images, &labels);
    if (!graph.inputs.empty()) fitImagesToInput(images, graph.inputs[0]);
    auto gr = computeGradients(graph, images, labels, activationNames, threads);
    if (!gr) return gr.status().withContext("computing gradients for the taylor criterion");
    for (const auto& kv : gr->weightGrads) {
      auto wi = graph.initializers.find(kv.first);
      if (wi == graph.initializers.end() || wi->second.numel() != kv.second.numel()) continue;
      Tensor& acc = out.weights[kv.first];
      if (acc.numel() != kv.second.numel()) acc = Tensor(wi->second.shape());
      const float* w = wi->second.f();
      const float* g = kv.second.f();
      float* a = acc.f();
      for (int64_t i = 0; i < acc.numel(); ++i) a[i] += std::fabs(w[i] * g[i]);
    }
    for (const auto& name : activationNames) {
      auto ai = gr->activations.find(name);
      auto gi = gr->activationGrads.find(name);
      if (ai == gr->activations.end() || gi == gr->activationGrads.end()) continue;
      const Tensor& A = ai->second;
      const Tensor& G = gi->second;
      if (A.rank() < 2 || A.numel() != G.numel()) continue;
      int64_t N = A.dim(0), C = A.dim(1), inner = A.numel() / std::max<int64_t>(1, N * C);
      Tensor& acc = out.activations[name];
      if (acc.numel() != C) acc = Tensor(Shape{C});
      // Per example: |mean over positions of a*g|; summed over examples here,
      // averaged over everything at the end.
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c) {
          const float* a = A.f() + (n * C + c) * inner;
          const float* g = G.f() + (n * C + c) * inner;
          double s = 0;
          for (int64_t i = 0; i < inner; ++i) s += static_cast<double>(a[i]) * g[i];
          // The loss is a batch mean; scaling by N makes batches of different sizes comparable.
          acc.f()[c] += static_cast<float>(std::fabs(s / static_cast<double>(inner)) * static_cast<double>(N));
        }
    }
    ++done;
  }
  for (auto& kv : out.weights)
    for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.f()[i] /= static_cast<float>(done);
  int64_t samples = static_cast<int64_t>(done) * batchSize;
  for (auto& kv : out.activations)
    for (int64_t i = 0; i < kv.second.numel(); ++i) kv.second.f()[i] /= static_cast<float>(samples);
  return out;
}

}  // namespace topiary
