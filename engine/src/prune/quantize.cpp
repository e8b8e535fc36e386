// Symmetric k-bit weight quantization, fake quantization and QAT hooks.
#include "topiary/quantize.h"

#include <cmath>

namespace topiary {

Status checkQuantSpec(const QuantSpec& spec) {
  if (spec.bits < 1 || spec.bits > 8)
    return Status::badInput("quantize bits " + std::to_string(spec.bits) + " is outside 1..8");
  return Status::ok();
}

namespace {

// Codes and scale for one channel's elements (given by index list).
void quantizeChannel(const float* w, const std::vector<int64_t>& idx, int bits, int8_t* q, float& scale) {
  double sumAbs = 0, maxAbs = 0;
  int64_t nz = 0;
  for (int64_t i : idx) {
    double a = std::fabs(w[i]);
    if (a == 0) continue;
    sumAbs += a;
    maxAbs = std::max(maxAbs, a);
    ++nz;
  }
  for (int64_t i : idx) q[i] = 0;
  scale = 1.f;
  if (nz == 0) return;
  double mean = sumAbs / static_cast<double>(nz);
  if (bits == 1) {
    scale = static_cast<float>(mean);
    for (int64_t i : idx) q[i] = static_cast<int8_t>(w[i] > 0 ? 1 : w[i] < 0 ? -1 : 0);
  } else if (bits == 2) {
    double delta = 0.7 * mean, s = 0;
    int64_t kept = 0;
    for (int64_t i : idx)
      if (std::fabs(w[i]) > delta) {
        s += std::fabs(w[i]);
        ++kept;
      }
    scale = kept ? static_cast<float>(s / static_cast<double>(kept)) : static_cast<float>(mean);
    for (int64_t i : idx) q[i] = static_cast<int8_t>(std::fabs(w[i]) > delta ? (w[i] > 0 ? 1 : -1) : 0);
  } else {
    int qmax = (1 << (bits - 1)) - 1;
    scale = static_cast<float>(maxAbs / qmax);
    for (int64_t i : idx) {
      float v = std::nearbyint(w[i] / scale);
      q[i] = static_cast<int8_t>(std::max<float>(-qmax, std::min<float>(qmax, v)));
    }
  }
}

}  // namespace

Result<QuantizedWeight> quantizeWeight(const PrunableLayer& L, const Tensor& weight, const QuantSpec& spec) {
  TOPIARY_RETURN_IF_ERROR(checkQuantSpec(spec));
  if (weight.numel() != L.numel() || weight.dtype() != DType::Float)
    return Status::badInput("quantize: weight does not match layer '" + L.node + "'");
  QuantizedWeight qw;
  qw.codes = Tensor(DType::Int8, weight.shape());
  // Scales run along the output-unit axis: 0 for [out, ...] layouts, 1 for [in, out].
  qw.axis = L.outStride == 1 && L.outUnits > 1 && weight.rank() == 2 ? 1 : 0;
  int8_t* q = qw.codes.data<int8_t>();
  if (!spec.perChannel) {
    std::vector<int64_t> all(static_cast<size_t>(weight.numel()));
    for (int64_t i = 0; i < weight.numel(); ++i) all[static_cast<size_t>(i)] = i;
    qw.scales.resize(1);
    quantizeChannel(weight.f(), all, spec.bits, q, qw.scales[0]);
    return qw;
  }
  qw.scales.resize(static_cast<size_t>(L.outUnits));
  std::vector<int64_t> idx;
  for (int64_t o = 0; o < L.outUnits; ++o) {
    idx.clear();
    for (int64_t c = 0; c < L.inUnits; ++c)
      for (int64_t k = 0; k < L.kernelSize; ++k) idx.push_back(L.index(o, c, k));
    quantizeChannel(weight.f(), idx, spec.bits, q, qw.scales[static_cast<size_t>(o)]);
  }
  return qw;
}

Status fakeQuantize(const PrunableLayer& L, Tensor& weight, const QuantSpec& spec) {
  auto qw = quantizeWeight(L, weight, spec);
  if (!qw) return qw.status();
  const int8_t* q = qw->codes.data<int8_t>();
  float* w = weight.f();
  for (int64_t o = 0; o < L.outUnits; ++o) {
    float s = qw->scales[spec.perChannel ? static_cast<size_t>(o) : 0];
    for (int64_t c = 0; c < L.inUnits; ++c)
      for (int64_t k = 0; k < L.kernelSize; ++k) {
        int64_t i = L.index(o, c, k);
        w[i] = s * static_cast<float>(q[i]);
      }
  }
  return Status::ok();
}

Status fakeQuantizeGraph(Graph& graph, const QuantSpec& spec) {
  TOPIARY_RETURN_IF_ERROR(checkQuantSpec(spec));
  for (const auto& L : findPrunableLayers(graph))
    TOPIARY_RETURN_IF_ERROR(fakeQuantize(L, graph.initializers.at(L.weight), spec));
  return Status::ok();
}

struct QatState {
  std::map<std::string, Tensor> fullPrecision;
};

TrainHooks makeQatHooks(const QuantSpec& spec, std::shared_ptr<QatState>& state) {
  state = std::make_shared<QatState>();
  TrainHooks h;
  std::shared_ptr<QatState> st = state;
  h.beforeForward = [st, spec](Graph& g) {
    for (const auto& L : findPrunableLayers(g)) {
      Tensor& w = g.initializers.at(L.weight);
      st->fullPrecision[L.weight] = w;
      (void)fakeQuantize(L, w, spec);
    }
  };
  h.afterBackward = [st](Graph& g, std::map<std::string, Tensor>&) {
    // Straight-through: the gradient at the quantized weights updates the full-precision ones.
    for (auto& kv : st->fullPrecision) {
      auto it = g.initializers.find(kv.first);
      if (it != g.initializers.end() && it->second.numel() == kv.second.numel()) it->second = kv.second;
    }
  };
  return h;
}

Status finishQat(Graph& graph, const QuantSpec& spec) { return fakeQuantizeGraph(graph, spec); }

}  // namespace topiary
