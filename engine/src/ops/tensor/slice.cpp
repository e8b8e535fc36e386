// Slice: a strided window per axis. Opset < 10 reads starts/ends/axes from
// attributes, later opsets from inputs (with optional axes and steps).
// Out-of-range starts and ends are clamped as ONNX specifies, negative steps
// walk backwards. The gradient scatters into a zero tensor.
#include <limits>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

struct Window {
  Shape shape;                   // output shape
  std::vector<int64_t> strides;  // input strides times steps
  int64_t offset = 0;            // input element of output element 0
};

class Slice final : public Kernel {
 public:
  Slice(bool fromAttrs, std::vector<int64_t> starts, std::vector<int64_t> ends, std::vector<int64_t> axes)
      : fromAttrs_(fromAttrs), starts_(std::move(starts)), ends_(std::move(ends)), axes_(std::move(axes)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    Window w;
    TOPIARY_RETURN_IF_ERROR(window(in, w));
    const Tensor& x = *in[0];
    out[0]->resize(x.dtype(), w.shape);
    stridedGather(x.raw(), out[0]->raw(), dtypeSize(x.dtype()), w.shape, w.strides, w.offset, ctx.threads);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    for (size_t i = 1; i < in.size(); ++i) zeroGradient(in, gradIn, i);
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(expectFloatGradient(*gradOut[0], "Slice"));
    Window w;
    TOPIARY_RETURN_IF_ERROR(window(in, w));
    if (gradOut[0]->shape() != w.shape)
      return Status::badInput("Slice gradient has shape " + shapeToString(gradOut[0]->shape()) + ", expected " +
                              shapeToString(w.shape));
    gradIn[0]->resize(DType::Float, in[0]->shape());
    gradIn[0]->setZero();
    stridedScatter(gradOut[0]->raw(), gradIn[0]->raw(), sizeof(float), w.shape, w.strides, w.offset, ctx.threads);
    return Status::ok();
  }

 private:
  Status window(const std::vector<const Tensor*>& in, Window& w) const {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, fromAttrs_ ? 1 : 3, "Slice"));
    const Tensor& x = *in[0];
    std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
    auto optionalInput = [&](size_t i, const char* what, std::vector<int64_t>& dst) -> Status {
      if (in.size() <= i || !in[i]) return Status::ok();
      auto v = readInts(*in[i], "Slice", what);
      if (!v) return v.status();
      dst = std::move(v.value());
      return Status::ok();
    };
    if (!fromAttrs_) {
      TOPIARY_RETURN_IF_ERROR(optionalInput(1, "starts", starts));
      TOPIARY_RETURN_IF_ERROR(optionalInput(2, "ends", ends));
      TOPIARY_RETURN_IF_ERROR(optionalInput(3, "axes", axes));
      TOPIARY_RETURN_IF_ERROR(optionalInput(4, "steps", steps));
    }
    if (starts.size() != ends.size())
      return Status::badInput("Slice has " + std::to_string(starts.size()) + " starts but " + std::to_string(ends.size()) + " ends");
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (axes.size() != starts.size() || steps.size() != starts.size())
      return Status::badInput("Slice starts, ends, axes and steps differ in length");
    TOPIARY_RETURN_IF_ERROR(normalizeAxes(axes, x.rank(), "Slice"));

    w.shape = x.shape();
    w.strides = stridesOf(x.shape());
    w.offset = 0;
    for (size_t i = 0; i < axes.size(); ++i) {
      const size_t a = static_cast<size_t>(axes[i]);
      const int64_t dim = x.shape()[a], step = steps[i];
      if (step == 0) return Status::badInput("Slice step on axis " + std::to_string(a) + " is 0");
      int64_t start = starts[i], end = ends[i];
      if (start < 0) start += dim;  // cannot overflow: dim >= 0 > start
      if (end < 0) end += dim;
      int64_t count;
      if (dim == 0) {
        count = 0;  // (and clamping to [0, dim-1] below would be empty)
      } else if (step > 0) {
        start = std::clamp<int64_t>(start, 0, dim);
        end = std::clamp<int64_t>(end, 0, dim);
        count = end > start ? (end - start - 1) / step + 1 : 0;
      } else {
        start = std::clamp<int64_t>(start, 0, dim - 1);
        end = std::clamp<int64_t>(end, -1, dim - 1);
        // -INT64_MIN overflows; any step that large takes one element anyway.
        const int64_t back = step == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -step;
        count = start > end ? (start - end - 1) / back + 1 : 0;
      }
      w.shape[a] = count;
      if (count > 0) w.offset += start * w.strides[a];
      // With two or more elements |step| < dim, so the product cannot overflow.
      w.strides[a] = count > 1 ? w.strides[a] * step : 0;
    }
    return Status::ok();
  }

  bool fromAttrs_;
  std::vector<int64_t> starts_, ends_, axes_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSlice(const Node& node, int opset) {
  if (opset < 10) {
    if (!node.hasAttr("starts") || !node.hasAttr("ends"))
      return Status::badInput("Slice (opset < 10) needs 'starts' and 'ends' attributes");
    std::vector<int64_t> starts = node.attrInts("starts"), ends = node.attrInts("ends"), axes = node.attrInts("axes");
    if (starts.size() != ends.size() || (!axes.empty() && axes.size() != starts.size()))
      return Status::badInput("Slice starts, ends and axes attributes differ in length");
    return make<Slice>(true, std::move(starts), std::move(ends), std::move(axes));
  }
  return make<Slice>(false, std::vector<int64_t>{}, std::vector<int64_t>{}, std::vector<int64_t>{});
}

}  // namespace topiary::ops
