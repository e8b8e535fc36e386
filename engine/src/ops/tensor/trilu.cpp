// Trilu, opsets 14..latest: keeps the upper (upper = 1) or lower triangle of
// the last two dimensions and zeroes the rest. Element (i, j) is kept when
// j - i >= k (upper) or j - i <= k (lower), k being the optional scalar
// input (0 when absent). Moves bytes only, so every dtype works.
#include <cstring>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Trilu final : public Kernel {
 public:
  explicit Trilu(bool upper) : upper_(upper) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 1, "Trilu"));
    const Tensor& x = *in[0];
    if (x.rank() < 2) return Status::badInput("Trilu needs an input of rank >= 2, got " + shapeToString(x.shape()));
    int64_t k = 0;
    if (in.size() > 1 && in[1]) {
      auto kv = readInts(*in[1], "Trilu", "k");
      if (!kv) return kv.status();
      if (kv->size() != 1) return Status::badInput("Trilu k must be a single value");
      k = (*kv)[0];
    }
    out[0]->resize(x.dtype(), x.shape());
    if (x.numel() == 0) return Status::ok();  // its other dimensions may multiply past int64
    const int64_t rows = x.dim(-2), cols = x.dim(-1);
    const int64_t plane = rows * cols;
    const int64_t planes = x.numel() / plane;
    const size_t es = dtypeSize(x.dtype());
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(out[0]->raw());
    std::memset(dst, 0, x.bytes());
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t i = 0; i < rows; ++i) {
        // The kept columns of row i form one range [lo, hi); k may be huge.
        const int64_t first = i + std::max<int64_t>(std::min<int64_t>(k, cols), -rows);
        const int64_t lo = upper_ ? std::clamp<int64_t>(first, 0, cols) : 0;
        const int64_t hi = upper_ ? cols : std::clamp<int64_t>(first + 1, 0, cols);
        if (hi <= lo) continue;
        const size_t at = static_cast<size_t>((p * rows + i) * cols + lo) * es;
        std::memcpy(dst + at, src + at, static_cast<size_t>(hi - lo) * es);
      }
    return Status::ok();
  }

 private:
  bool upper_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createTrilu(const Node& node, int) {
  const int64_t upper = node.attrInt("upper", 1);
  if (upper != 0 && upper != 1)
    return Status::badInput("Trilu attribute 'upper' must be 0 or 1, got " + std::to_string(upper));
  return make<Trilu>(upper == 1);
}

}  // namespace topiary::ops
