#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace topiary::training {

void Optimizer::reset(size_t params) {
  m_.assign(params, Tensor());
  v_.assign(params, Tensor());
  t_ = 0;
}

void Optimizer::step(size_t slot, Tensor& w, const Tensor& g, float lr) {
  if (slot >= m_.size()) return;
  if (m_[slot].numel() != w.numel()) {
    m_[slot] = Tensor(DType::Float, w.shape());
    if (kind_ == "adam") v_[slot] = Tensor(DType::Float, w.shape());
  }
  const float wd = w.rank() >= 2 ? wd_ : 0.f;
  float* pw = w.f();
  const float* pg = g.f();
  float* pm = m_[slot].f();
  const int64_t n = w.numel();
  if (kind_ == "adam") {
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    float* pv = v_[slot].f();
    const float c1 = 1.f - static_cast<float>(std::pow(b1, static_cast<double>(std::max<int64_t>(1, t_))));
    const float c2 = 1.f - static_cast<float>(std::pow(b2, static_cast<double>(std::max<int64_t>(1, t_))));
    const float stepSize = lr / c1, invC2 = 1.f / c2;
    for (int64_t i = 0; i < n; ++i) {
      float gi = pg[i] + wd * pw[i];
      pm[i] = b1 * pm[i] + (1.f - b1) * gi;
      pv[i] = b2 * pv[i] + (1.f - b2) * gi * gi;
      pw[i] -= stepSize * pm[i] / (std::sqrt(pv[i] * invC2) + eps);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      float gi = pg[i] + wd * pw[i];
      pm[i] = momentum_ * pm[i] + gi;
      pw[i] -= lr * pm[i];
    }
  }
}

float scheduledLr(float base, const std::string& schedule, int epoch, int stepEvery, float gamma, int64_t step,
                  int64_t totalSteps) {
  if (schedule == "step") {
    int decays = (epoch - 1) / std::max(1, stepEvery);
    return base * static_cast<float>(std::pow(static_cast<double>(gamma), decays));
  }
  if (schedule == "cosine" && totalSteps > 0) {
    double t = static_cast<double>(step) / static_cast<double>(totalSteps);
    return static_cast<float>(0.5 * static_cast<double>(base) * (1.0 + std::cos(M_PI * std::min(1.0, t))));
  }
  return base;
}

}  // namespace topiary::training
