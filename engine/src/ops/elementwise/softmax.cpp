// Softmax: y = exp(x - max) / sum(exp(x - max)) along an axis.
// FLOPs: a max, an exp (about 4, see unary.h) and a few arithmetic
// operations per element; counted as 8.
#include "ops/elementwise/elementwise_ops.h"
#include "ops/elementwise/softmax_common.h"

namespace topiary::ops {
namespace {

class Softmax final : public Kernel {
 public:
  Softmax(int64_t axis, bool coerce2d) : axis_(axis), coerce2d_(coerce2d) {}
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Softmax"));
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[0], "Softmax"));
    SoftmaxGeometry g;
    TOPIARY_RETURN_IF_ERROR(softmaxGeometry(in[0]->shape(), axis_, coerce2d_, g));
    out[0]->resize(DType::Float, in[0]->shape());
    softmaxForward<false>(in[0]->f(), out[0]->f(), g, ctx.threads);
    return Status::ok();
  }
  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>& out,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradIn[0] || !gradOut[0]) return Status::ok();
    SoftmaxGeometry g;
    TOPIARY_RETURN_IF_ERROR(softmaxGeometry(in[0]->shape(), axis_, coerce2d_, g));
    gradIn[0]->resize(DType::Float, in[0]->shape());
    softmaxBackward<false>(out[0]->f(), gradOut[0]->f(), gradIn[0]->f(), g, ctx.threads);
    return Status::ok();
  }
  double flops(const std::vector<Shape>& in, const std::vector<Shape>&) const override {
    return in.empty() ? 0.0 : 8.0 * static_cast<double>(numelOf(in[0]));
  }

 private:
  int64_t axis_;
  bool coerce2d_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSoftmax(const Node& node, int opset) {
  const bool coerce2d = opset < 13;
  return make<Softmax>(node.attrInt("axis", coerce2d ? 1 : -1), coerce2d);
}

}  // namespace topiary::ops
