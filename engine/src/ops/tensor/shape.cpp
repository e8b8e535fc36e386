// Shape: the input's dimensions as a 1-D int64 tensor; from opset 15 the
// optional start/end pick a range of them (negative counts from the end,
// out-of-range values are clamped).
#include <limits>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class ShapeOp final : public Kernel {
 public:
  ShapeOp(int64_t start, int64_t end) : start_(start), end_(end) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Shape"));
    const Shape& s = in[0]->shape();
    const int64_t r = static_cast<int64_t>(s.size());
    auto clampIndex = [r](int64_t i) {
      if (i < 0) i += r;
      return std::clamp<int64_t>(i, 0, r);
    };
    const int64_t b = clampIndex(start_), e = clampIndex(end_);
    const int64_t n = std::max<int64_t>(0, e - b);
    out[0]->resize(DType::Int64, {n});
    for (int64_t i = 0; i < n; ++i) out[0]->data<int64_t>()[i] = s[static_cast<size_t>(b + i)];
    return Status::ok();
  }

 private:
  int64_t start_, end_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createShape(const Node& node, int) {
  return make<ShapeOp>(node.attrInt("start", 0), node.attrInt("end", std::numeric_limits<int64_t>::max()));
}

}  // namespace topiary::ops
