// SpaceToDepth: [N, C, H, W] -> [N, C*b*b, H/b, W/b], the inverse of
// DepthToSpace in DCR order: output channel (i*b + j)*C + c holds input
// (n, c, h*b+i, w*b+j). Viewing the output as [N, b, b, C, H/b, W/b] makes
// it one strided copy.
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class SpaceToDepth final : public Kernel {
 public:
  explicit SpaceToDepth(int64_t block) : b_(block) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "SpaceToDepth"));
    const Tensor& x = *in[0];
    if (x.rank() != 4) return Status::badInput("SpaceToDepth needs a 4-D input, got " + shapeToString(x.shape()));
    const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), b = b_;
    if (H % b != 0 || W % b != 0)
      return Status::badInput("SpaceToDepth spatial size " + shapeToString({H, W}) + " is not divisible by blocksize " +
                              std::to_string(b));
    const Shape view = {N, b, b, C, H / b, W / b};
    const std::vector<int64_t> strides = {C * H * W, W, 1, H * W, b * W, b};
    out[0]->resize(x.dtype(), {N, C * b * b, H / b, W / b});
    stridedGather(x.raw(), out[0]->raw(), dtypeSize(x.dtype()), view, strides, 0, ctx.threads);
    return Status::ok();
  }

 private:
  int64_t b_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createSpaceToDepth(const Node& node, int) {
  int64_t b = node.attrInt("blocksize", 0);
  if (b < 1) return Status::badInput("SpaceToDepth needs a positive 'blocksize', got " + std::to_string(b));
  return make<SpaceToDepth>(b);
}

}  // namespace topiary::ops
