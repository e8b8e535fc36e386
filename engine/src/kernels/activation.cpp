#include "kernels/activation.h"

#include <algorithm>

namespace topiary::kernels {

namespace {

// One loop per kind so each vectorises; `bias` is added first.
template <class F>
inline void each(float* p, int64_t n, float bias, F f) {
  for (int64_t i = 0; i < n; ++i) p[i] = f(p[i] + bias);
}

}  // namespace

void Activation::applyWithBias(float* p, int64_t n, float bias) const {
  const float a = alpha, b = beta;
  switch (kind) {
    case Kind::None:
      if (bias != 0.f) each(p, n, bias, [](float x) { return x; });
      break;
    case Kind::Relu:
      each(p, n, bias, [](float x) { return x > 0.f ? x : 0.f; });
      break;
    case Kind::LeakyRelu:
      each(p, n, bias, [a](float x) { return x >= 0.f ? x : a * x; });
      break;
    case Kind::Clip:
      each(p, n, bias, [a, b](float x) { return std::min(std::max(x, a), b); });
      break;
    case Kind::HardSigmoid:
      each(p, n, bias, [a, b](float x) { return std::min(std::max(a * x + b, 0.f), 1.f); });
      break;
    case Kind::HardSwish:
      each(p, n, bias, [](float x) { return x * std::min(std::max(x * (1.f / 6.f) + 0.5f, 0.f), 1.f); });
      break;
  }
}

void Activation::apply(float* p, int64_t n) const { applyWithBias(p, n, 0.f); }

void Activation::applyWithResidual(float* p, const float* r, int64_t n, float bias) const {
  // One pass (the add and then the activation were two over the output).
  withActivation16(*this, [&](auto act) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) store16(p + i, act(load16(p + i) + bias + load16(r + i)));
    if (i < n) storePrefix(p + i, act(loadPrefix(p + i, n - i) + bias + loadPrefix(r + i, n - i)), n - i);
  });
}

std::string Activation::name() const {
  switch (kind) {
    case Kind::None:
      return "";
    case Kind::Relu:
      return "Relu";
    case Kind::LeakyRelu:
      return "LeakyRelu";
    case Kind::Clip:
      return "Clip";
    case Kind::HardSigmoid:
      return "HardSigmoid";
    case Kind::HardSwish:
      return "HardSwish";
  }
  return "";
}

Status Activation::fromNode(const Node& node, Activation& out, const std::string& prefix) {
  out = Activation{};
  std::string k = node.attrString(prefix, "");
  if (k.empty()) return Status::ok();
  out.alpha = node.attrFloat(prefix + "_alpha", 0.f);
  out.beta = node.attrFloat(prefix + "_beta", 0.f);
  if (k == "Relu")
    out.kind = Kind::Relu;
  else if (k == "LeakyRelu")
    out.kind = Kind::LeakyRelu;
  else if (k == "Clip")
    out.kind = Kind::Clip;
  else if (k == "HardSigmoid")
    out.kind = Kind::HardSigmoid;
  else if (k == "HardSwish")
    out.kind = Kind::HardSwish;
  else
    return Status::badInput("node '" + node.label() + "': unknown fused activation '" + k + "'");
  return Status::ok();
}

void Activation::toNode(Node& node, const std::string& prefix) const {
  if (none()) return;
  node.attrs[prefix] = Attribute::ofString(name());
  node.attrs[prefix + "_alpha"] = Attribute::ofFloat(alpha);
  node.attrs[prefix + "_beta"] = Attribute::ofFloat(beta);
}

}  // namespace topiary::kernels
