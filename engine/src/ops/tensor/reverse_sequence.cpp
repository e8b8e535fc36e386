// ReverseSequence, opsets 10..latest: for every batch entry b, the first
// sequence_lens[b] steps along time_axis are reversed and the rest copied.
// time_axis and batch_axis are 0 and 1 in either order.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class ReverseSequence final : public Kernel {
 public:
  ReverseSequence(int64_t timeAxis, int64_t batchAxis) : timeAxis_(timeAxis), batchAxis_(batchAxis) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 2, "ReverseSequence"));
    const Tensor& x = *in[0];
    if (x.rank() < 2) return Status::badInput("ReverseSequence needs an input of rank >= 2");
    auto lens = readInts(*in[1], "ReverseSequence", "sequence_lens");
    if (!lens) return lens.status();
    const int64_t T = x.dim(static_cast<int>(timeAxis_)), B = x.dim(static_cast<int>(batchAxis_));
    if (static_cast<int64_t>(lens->size()) != B || in[1]->rank() != 1)
      return Status::badInput("ReverseSequence sequence_lens has shape " + shapeToString(in[1]->shape()) +
                              " for a batch of " + std::to_string(B));
    for (int64_t l : *lens)
      if (l < 0 || l > T)
        return Status::badInput("ReverseSequence length " + std::to_string(l) + " is outside [0, " + std::to_string(T) +
                                "]");
    out[0]->resize(x.dtype(), x.shape());
    if (x.numel() == 0) return Status::ok();  // its other dimensions may multiply past int64
    const int64_t inner = x.numel() / (T * B);
    const size_t bytes = static_cast<size_t>(inner) * dtypeSize(x.dtype());
    if (bytes == 0) return Status::ok();
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(out[0]->raw());
    // Block (t, b) sits at t*B + b (time first) or b*T + t (batch first).
    auto at = [&](int64_t t, int64_t b) { return static_cast<size_t>(timeAxis_ == 0 ? t * B + b : b * T + t) * bytes; };
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = (*lens)[static_cast<size_t>(b)];
      for (int64_t t = 0; t < T; ++t) std::memcpy(dst + at(t, b), src + at(t < len ? len - 1 - t : t, b), bytes);
    }
    return Status::ok();
  }

 private:
  int64_t timeAxis_, batchAxis_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReverseSequence(const Node& node, int) {
  const int64_t timeAxis = node.attrInt("time_axis", 0), batchAxis = node.attrInt("batch_axis", 1);
  if (!((timeAxis == 0 && batchAxis == 1) || (timeAxis == 1 && batchAxis == 0)))
    return Status::badInput("ReverseSequence attributes time_axis and batch_axis must be 0 and 1 in either order");
  return make<ReverseSequence>(timeAxis, batchAxis);
}

}  // namespace topiary::ops
