// ReduceMean: mean over `axes` (all axes when none are given, unless
// noop_with_empty_axes), keeping reduced dims as 1 when keepdims. Axes are
// an attribute before opset 18 and an optional int64 input from 18 on.
// Sums accumulate in double. Gradient: dy / count, broadcast back.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/elementwise/broadcast.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

class ReduceMean final : public Kernel {
 public:
  ReduceMean(std::vector<int64_t> axes, bool keepdims, bool noopEmpty, bool axesInput)
      : attrAxes_(std::move(axes)), keepdims_(keepdims), noopEmpty_(noopEmpty), axesInput_(axesInput) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "ReduceMean"));
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(expectFloat(X, "ReduceMean"));
    TOPIARY_RETURN_IF_ERROR(resolve(in));
    out[0]->resize(DType::Float, keepShape_);
    if (noop_) {
      if (X.bytes()) std::memcpy(out[0]->raw(), X.raw(), X.bytes());
      return Status::ok();
    }
    const double scale = count_ > 0 ? 1.0 / static_cast<double>(count_) : std::numeric_limits<double>::quiet_NaN();
    TOPIARY_RETURN_IF_ERROR(sumToShape(X.f(), X.shape(), out[0]->f(), keepShape_, ctx.threads, scale));
    out[0]->reshapeInPlace(outShape_);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    const Tensor& X = *in[0];
    TOPIARY_RETURN_IF_ERROR(resolve(in));
    gradIn[0]->resize(DType::Float, X.shape());
    if (noop_) {
      if (X.numel()) std::memcpy(gradIn[0]->raw(), gradOut[0]->raw(), gradIn[0]->bytes());
      return Status::ok();
    }
    // dy has keepShape_'s elements whatever keepdims said; broadcast it back.
    TOPIARY_RETURN_IF_ERROR(planBinary(X.shape(), keepShape_, planShape_, plan_));
    const float inv = count_ > 0 ? 1.f / static_cast<float>(count_) : 0.f;
    const float* gy = gradOut[0]->f();
    float* gx = gradIn[0]->f();
    forEachRow<2>(plan_, ctx.threads, [&](int64_t i, int64_t len, const int64_t* off, const int64_t* step) {
      const float* g = gy + off[1];
      if (step[1]) {
        for (int64_t j = 0; j < len; ++j) gx[i + j] = g[j] * inv;
      } else {
        const float v = *g * inv;
        for (int64_t j = 0; j < len; ++j) gx[i + j] = v;
      }
    });
    return Status::ok();
  }

  // One addition per input element, one division per output element.
  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.empty()) return 0.0;
    return static_cast<double>(numelOf(in[0])) + (out.empty() ? 0.0 : static_cast<double>(numelOf(out[0])));
  }

 private:
  // Computes keepShape_, outShape_, count_ and noop_ for this input.
  Status resolve(const std::vector<const Tensor*>& in) {
    const Shape& s = in[0]->shape();
    const int64_t r = static_cast<int64_t>(s.size());
    axes_.clear();
    if (axesInput_ && in.size() > 1 && in[1]) {
      if (in[1]->dtype() != DType::Int64 || in[1]->rank() > 1)
        return Status::badInput("ReduceMean axes must be a 1-D int64 tensor");
      axes_.assign(in[1]->data<int64_t>(), in[1]->data<int64_t>() + in[1]->numel());
    } else if (!axesInput_) {
      axes_.assign(attrAxes_.begin(), attrAxes_.end());
    }
    noop_ = axes_.empty() && noopEmpty_;
    keepShape_.assign(s.begin(), s.end());
    count_ = 1;
    if (noop_) {
      outShape_.assign(s.begin(), s.end());
      return Status::ok();
    }
    if (axes_.empty()) {
      for (int64_t d = 0; d < r; ++d) axes_.push_back(d);
    }
    for (int64_t& a : axes_) TOPIARY_RETURN_IF_ERROR(normalizeAxis(a, r, "ReduceMean axis"));
    std::sort(axes_.begin(), axes_.end());
    if (std::adjacent_find(axes_.begin(), axes_.end()) != axes_.end())
      return Status::badInput("ReduceMean axes contain a duplicate");
    for (int64_t a : axes_) {
      count_ *= s[static_cast<size_t>(a)];
      keepShape_[static_cast<size_t>(a)] = 1;
    }
    outShape_.clear();
    for (int64_t d = 0; d < r; ++d) {
      bool reduced = std::binary_search(axes_.begin(), axes_.end(), d);
      if (!reduced)
        outShape_.push_back(s[static_cast<size_t>(d)]);
      else if (keepdims_)
        outShape_.push_back(1);
    }
    return Status::ok();
  }

  std::vector<int64_t> attrAxes_;
  bool keepdims_, noopEmpty_, axesInput_;
  // Per-run state, kept to reuse capacity.
  std::vector<int64_t> axes_;
  Shape keepShape_, outShape_, planShape_;
  int64_t count_ = 1;
  bool noop_ = false;
  BroadcastPlan<2> plan_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReduceMean(const Node& node, int opset) {
  return make<ReduceMean>(node.attrInts("axes"), node.attrInt("keepdims", 1) != 0,
                          node.attrInt("noop_with_empty_axes", 0) != 0, opset >= 18);
}

}  // namespace topiary::ops
