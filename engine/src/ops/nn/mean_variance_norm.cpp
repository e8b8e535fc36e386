// MeanVarianceNormalization, opsets 9..latest: X is normalised over `axes`
// (default [0,2,3]: per channel across the batch and the image), as ONNX's
// function body defines it:
//   y = (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9)
#include <cmath>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"

namespace topiary::ops {
namespace {

class MeanVarianceNorm final : public Kernel {
 public:
  explicit MeanVarianceNorm(std::vector<int64_t> axes) : axes_(std::move(axes)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "MeanVarianceNormalization"));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "MeanVarianceNormalization", "X"));
    const int64_t rank = X.rank();
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int64_t a : axes_) {
      TOPIARY_RETURN_IF_ERROR(normalizeAxis(a, rank, "MeanVarianceNormalization axis"));
      if (a >= rank) return Status::badInput("MeanVarianceNormalization needs an input of rank >= 1");
      reduced[static_cast<size_t>(a)] = true;
    }
    const Shape& s = X.shape();
    out[0]->resize(DType::Float, s);
    const int64_t n = X.numel();
    if (n == 0) return Status::ok();  // its other dimensions may multiply past int64
    // Every element belongs to the group named by its kept coordinates.
    int64_t groups = 1;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduced[static_cast<size_t>(d)]) groups *= s[static_cast<size_t>(d)];
    group_.resize(static_cast<size_t>(n));
    std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t g = 0;
      for (int64_t d = 0; d < rank; ++d)
        if (!reduced[static_cast<size_t>(d)]) g = g * s[static_cast<size_t>(d)] + idx[static_cast<size_t>(d)];
      group_[static_cast<size_t>(i)] = g;
      for (int64_t d = rank; d-- > 0;) {
        if (++idx[static_cast<size_t>(d)] < s[static_cast<size_t>(d)]) break;
        idx[static_cast<size_t>(d)] = 0;
      }
    }
    sum_.assign(static_cast<size_t>(groups), 0.0);
    sq_.assign(static_cast<size_t>(groups), 0.0);
    const float* x = X.f();
    for (int64_t i = 0; i < n; ++i) {
      const size_t g = static_cast<size_t>(group_[static_cast<size_t>(i)]);
      sum_[g] += x[i];
      sq_[g] += double(x[i]) * x[i];
    }
    const double count = static_cast<double>(n / groups);
    for (size_t g = 0; g < sum_.size(); ++g) {
      const double mean = sum_[g] / count;
      sum_[g] = mean;
      sq_[g] = std::sqrt(std::max(sq_[g] / count - mean * mean, 0.0)) + 1e-9;
    }
    float* y = out[0]->f();
    for (int64_t i = 0; i < n; ++i) {
      const size_t g = static_cast<size_t>(group_[static_cast<size_t>(i)]);
      y[i] = static_cast<float>((x[i] - sum_[g]) / sq_[g]);
    }
    return Status::ok();
  }

  // Per element: a sum and a square-and-sum for the statistics, then a
  // subtraction and a division; as InstanceNormalization counts.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : 5.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  std::vector<int64_t> axes_;
  std::vector<int64_t> group_;    // per element, reused between runs
  std::vector<double> sum_, sq_;  // per group: mean and the divisor
};

}  // namespace

Result<std::unique_ptr<Kernel>> createMeanVarianceNormalization(const Node& node, int) {
  std::vector<int64_t> axes = node.attrInts("axes", {0, 2, 3});
  std::vector<int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return Status::badInput("MeanVarianceNormalization attribute 'axes' repeats an axis");
  return make<MeanVarianceNorm>(std::move(axes));
}

}  // namespace topiary::ops
