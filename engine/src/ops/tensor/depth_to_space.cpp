// DepthToSpace: [N, C, H, W] -> [N, C/(b*b), H*b, W*b]. Output element
// (n, c, h*b+i, w*b+j) reads input channel (i*b + j)*C' + c in DCR mode (the
// default) or c*b*b + i*b + j in CRD mode. Viewing the output as
// [N, C', H, b, W, b] makes it one strided copy.
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class DepthToSpace final : public Kernel {
 public:
  DepthToSpace(int64_t block, bool crd) : b_(block), crd_(crd) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "DepthToSpace"));
    const Tensor& x = *in[0];
    if (x.rank() != 4) return Status::badInput("DepthToSpace needs a 4-D input, got " + shapeToString(x.shape()));
    const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), b = b_;
    if (C % (b * b) != 0)
      return Status::badInput("DepthToSpace channels " + std::to_string(C) + " are not divisible by blocksize^2 = " +
                              std::to_string(b * b));
    const int64_t Co = C / (b * b), hw = H * W;
    const Shape view = {N, Co, H, b, W, b};
    std::vector<int64_t> strides = crd_ ? std::vector<int64_t>{C * hw, b * b * hw, W, b * hw, 1, hw}
                                        : std::vector<int64_t>{C * hw, hw, W, b * Co * hw, 1, Co * hw};
    out[0]->resize(x.dtype(), {N, Co, H * b, W * b});
    stridedGather(x.raw(), out[0]->raw(), dtypeSize(x.dtype()), view, strides, 0, ctx.threads);
    return Status::ok();
  }

 private:
  int64_t b_;
  bool crd_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createDepthToSpace(const Node& node, int) {
  int64_t b = node.attrInt("blocksize", 0);
  if (b < 1) return Status::badInput("DepthToSpace needs a positive 'blocksize', got " + std::to_string(b));
  std::string mode = node.attrString("mode", "DCR");
  if (mode != "DCR" && mode != "CRD") return Status::badInput("DepthToSpace mode must be DCR or CRD, got '" + mode + "'");
  return make<DepthToSpace>(b, mode == "CRD");
}

}  // namespace topiary::ops
