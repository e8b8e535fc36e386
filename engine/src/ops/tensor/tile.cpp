// Tile: repeats the input repeats[d] times along each dimension d. Viewed
// as shape [r0, d0, r1, d1, ...] the output is the input broadcast over the
// r axes (stride 0), which is one strided copy.
#include <limits>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Tile final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Tile"));
    const Tensor& x = *in[0];
    auto reps = readInts(*in[1], "Tile", "repeats");
    if (!reps) return reps.status();
    if (static_cast<int>(reps->size()) != x.rank())
      return Status::badInput("Tile repeats has " + std::to_string(reps->size()) + " entries for an input of rank " +
                              std::to_string(x.rank()));
    Shape shape, view;
    std::vector<int64_t> strides;
    auto xs = stridesOf(x.shape());
    for (size_t d = 0; d < reps->size(); ++d) {
      const int64_t r = (*reps)[d];
      if (r < 0) return Status::badInput("Tile repeats " + shapeToString(reps.value()) + " has a negative entry");
      const int64_t dim = x.shape()[d];
      if (r != 0 && dim > std::numeric_limits<int64_t>::max() / r)
        return Status::badInput("Tile output dimension overflows");
      shape.push_back(dim * r);
      view.insert(view.end(), {r, dim});
      strides.insert(strides.end(), {0, xs[d]});
    }
    TOPIARY_RETURN_IF_ERROR(checkOutputShape(shape, x.dtype(), "Tile"));
    out[0]->resize(x.dtype(), shape);
    if (out[0]->numel() == 0) return Status::ok();  // the view's other dims may be huge
    stridedGather(x.raw(), out[0]->raw(), dtypeSize(x.dtype()), view, strides, 0, ctx.threads);
    return Status::ok();
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> createTile(const Node&, int) { return make<Tile>(); }

}  // namespace topiary::ops
