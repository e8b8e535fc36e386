// TopK: the k largest (or smallest, largest = 0) elements along `axis` and
// their int64 indices. Opset 1 reads k from an attribute, opset 10 from a
// 1-element input; opset 11 adds `largest` and `sorted`. The results are
// always sorted (allowed when sorted = 0); equal values keep the lower index
// first, like ONNX's reference, and NaN counts as the largest value.
#include <cmath>

#include "ops/elementwise/dispatch.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class TopK final : public Kernel {
 public:
  TopK(int64_t axis, int64_t kAttr, bool largest) : axis_(axis), kAttr_(kAttr), largest_(largest) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext&) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, kAttr_ < 0 ? 2 : 1, "TopK"));
    const Tensor& x = *in[0];
    int64_t k = kAttr_;
    if (k < 0) {
      auto kv = readInts(*in[1], "TopK", "K");
      if (!kv) return kv.status();
      if (kv->size() != 1) return Status::badInput("TopK K must hold a single value");
      k = (*kv)[0];
    }
    if (x.rank() == 0) return Status::badInput("TopK needs an input of rank >= 1");
    int64_t axis = axis_;
    TOPIARY_RETURN_IF_ERROR(normalizeAxis(axis, x.rank(), "TopK axis"));
    const int64_t dim = x.dim(static_cast<int>(axis));
    if (k < 0 || k > dim)
      return Status::badInput("TopK k = " + std::to_string(k) + " is outside [0, " + std::to_string(dim) +
                              "] for axis " + std::to_string(axis) + " of " + shapeToString(x.shape()));
    int64_t inner = 1;  // of a nonempty tensor: an empty one's dimensions may multiply past int64
    if (x.numel() > 0)
      for (int d = static_cast<int>(axis) + 1; d < x.rank(); ++d) inner *= x.dim(d);
    const int64_t outer = x.numel() > 0 ? x.numel() / (dim * inner) : 0;
    Shape shape = x.shape();
    shape[static_cast<size_t>(axis)] = k;
    Tensor* values = out[0];
    Tensor* indices = out.size() > 1 ? out[1] : nullptr;
    bool known = visitNumeric(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (values) values->resize(x.dtype(), shape);
      if (indices) indices->resize(DType::Int64, shape);
      if (x.numel() == 0) return;  // dim may be huge when another dimension is 0
      const T* src = x.data<T>();
      order_.resize(static_cast<size_t>(dim));
      // Strict weak order: "a comes first"; NaN ranks above every number.
      auto before = [&](int64_t base, int64_t a, int64_t b) {
        const T va = src[base + a * inner], vb = src[base + b * inner];
        const bool na = isNan(va), nb = isNan(vb);
        if (na || nb) return na != nb ? na == largest_ : a < b;
        if (va != vb) return largest_ ? va > vb : va < vb;
        return a < b;
      };
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t base = o * dim * inner + i;
          for (int64_t j = 0; j < dim; ++j) order_[static_cast<size_t>(j)] = j;
          std::partial_sort(order_.begin(), order_.begin() + k, order_.end(),
                            [&](int64_t a, int64_t b) { return before(base, a, b); });
          const int64_t outBase = o * k * inner + i;
          for (int64_t j = 0; j < k; ++j) {
            const int64_t pick = order_[static_cast<size_t>(j)];
            if (values) values->data<T>()[outBase + j * inner] = src[base + pick * inner];
            if (indices) indices->data<int64_t>()[outBase + j * inner] = pick;
          }
        }
    });
    if (!known) return Status::unsupported(std::string("TopK does not support type ") + dtypeName(x.dtype()));
    return Status::ok();
  }

  // Comparisons: a partial sort of each slice costs about log2(k) per
  // element (one per element for k <= 2, as ArgMax counts).
  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.empty() || in[0].empty()) return 0.0;
    const int64_t rank = static_cast<int64_t>(in[0].size());
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    double k = 1.0;
    if (!out.empty() && axis >= 0 && axis < static_cast<int64_t>(out[0].size()))
      k = static_cast<double>(out[0][static_cast<size_t>(axis)]);
    return std::max(1.0, std::log2(k)) * static_cast<double>(numelOf(in[0]));
  }

 private:
  int64_t axis_, kAttr_;  // kAttr_ < 0: k is the second input (opset >= 10)
  bool largest_;
  std::vector<int64_t> order_;  // reused between runs
};

}  // namespace

Result<std::unique_ptr<Kernel>> createTopK(const Node& node, int opset) {
  int64_t k = -1;
  if (opset < 10) {
    if (!node.hasAttr("k")) return Status::badInput("TopK before opset 10 needs the attribute 'k'");
    k = node.attrInt("k", 0);
    if (k < 0) return Status::badInput("TopK attribute 'k' must be >= 0, got " + std::to_string(k));
  }
  const int64_t largest = opset >= 11 ? node.attrInt("largest", 1) : 1;
  const int64_t sorted = opset >= 11 ? node.attrInt("sorted", 1) : 1;
  if ((largest != 0 && largest != 1) || (sorted != 0 && sorted != 1))
    return Status::badInput("TopK attributes 'largest' and 'sorted' must be 0 or 1");
  return make<TopK>(node.attrInt("axis", -1), k, largest == 1);
}

}  // namespace topiary::ops
