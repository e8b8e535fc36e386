// Compress, opsets 9..latest: the slices along `axis` whose condition entry
// is true (without `axis`, the elements of the flattened input). The
// condition may be shorter than the axis (missing entries are false); a
// true entry beyond the axis is an error.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Compress final : public Kernel {
 public:
  Compress(bool hasAxis, int64_t axis) : hasAxis_(hasAxis), axis_(axis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "Compress"));
    const Tensor &x = *in[0], &cond = *in[1];
    if (cond.rank() != 1) return Status::badInput("Compress condition must be 1-D, got " + shapeToString(cond.shape()));
    if (cond.dtype() == DType::Float16 || cond.dtype() == DType::String)
      return Status::unsupported(std::string("Compress condition of type ") + dtypeName(cond.dtype()));
    int64_t axis = 0, outer = 1, dim = x.numel(), inner = 1;
    Shape shape{0};
    if (hasAxis_) {
      if (x.rank() == 0) return Status::badInput("Compress with an axis needs an input of rank >= 1");
      axis = axis_;
      TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank(), "Compress axis"));
      shape = x.shape();
      dim = shape[static_cast<size_t>(axis)];
      // An empty tensor's other dimensions may multiply past int64; nothing is copied from it.
      if (x.numel() > 0) {
        for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
        for (int d = static_cast<int>(axis) + 1; d < x.rank(); ++d) inner *= x.dim(d);
      }
    }
    const std::vector<double> c = cond.toDoubles();
    keep_.clear();
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i] == 0) continue;
      if (static_cast<int64_t>(i) >= dim)
        return Status::badInput("Compress condition has a true entry at " + std::to_string(i) +
                                " beyond the axis of size " + std::to_string(dim));
      keep_.push_back(static_cast<int64_t>(i));
    }
    const int64_t kept = static_cast<int64_t>(keep_.size());
    shape[hasAxis_ ? static_cast<size_t>(axis) : 0] = kept;
    out[0]->resize(x.dtype(), shape);
    const size_t es = dtypeSize(x.dtype()), blockBytes = static_cast<size_t>(inner) * es;
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(out[0]->raw());
    if (blockBytes == 0 || x.numel() == 0) return Status::ok();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < kept; ++j)
        std::memcpy(dst + static_cast<size_t>(o * kept + j) * blockBytes,
                    src + static_cast<size_t>(o * dim + keep_[static_cast<size_t>(j)]) * blockBytes, blockBytes);
    return Status::ok();
  }

 private:
  bool hasAxis_;
  int64_t axis_;
  std::vector<int64_t> keep_;  // reused between runs
};

}  // namespace

Result<std::unique_ptr<Kernel>> createCompress(const Node& node, int) {
  return make<Compress>(node.hasAttr("axis"), node.attrInt("axis", 0));
}

}  // namespace topiary::ops
