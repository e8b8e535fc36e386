// Reshape: same elements, new shape. The target comes from the `shape`
// attribute (opset < 5) or the second input; 0 copies the input's dimension
// (unless allowzero, opset 14, asks for a literal 0) and one -1 is inferred.
#include "ops/tensor/shape_only.h"
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Reshape final : public ShapeOnlyKernel {
 public:
  Reshape(bool fromAttr, std::vector<int64_t> shape, bool allowZero)
      : ShapeOnlyKernel("Reshape", fromAttr ? 1 : 2), fromAttr_(fromAttr), attrShape_(std::move(shape)),
        allowZero_(allowZero) {}

 private:
  Status outputShape(const std::vector<const Tensor*>& in, Shape& shape) const override {
    std::vector<int64_t> target = attrShape_;
    if (!fromAttr_) {
      auto s = readInts(*in[1], "Reshape", "shape");
      if (!s) return s.status();
      target = std::move(s.value());
    }
    return resolve(in[0]->shape(), target, shape);
  }

  Status resolve(const Shape& from, const std::vector<int64_t>& target, Shape& shape) const {
    shape.assign(target.begin(), target.end());
    int inferred = -1;
    bool hasZero = false;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == -1) {
        if (inferred >= 0) return Status::badInput("Reshape target " + shapeToString(target) + " has more than one -1");
        inferred = static_cast<int>(i);
      } else if (shape[i] == 0 && !allowZero_) {
        if (i >= from.size())
          return Status::badInput("Reshape target " + shapeToString(target) + " copies dimension " + std::to_string(i) +
                                  " (0) that input " + shapeToString(from) + " does not have");
        shape[i] = from[i];
      } else if (shape[i] < 0) {
        return Status::badInput("Reshape target " + shapeToString(target) + " has a negative dimension");
      }
      hasZero |= shape[i] == 0;
    }
    int64_t n = numelOf(from);
    if (inferred >= 0) {
      shape[static_cast<size_t>(inferred)] = 1;
      auto known = checkedNumel(shape);
      if (!known) return known.status().withContext("Reshape");
      if (known.value() == 0) {
        // allowzero with both 0 and -1 is ambiguous; ONNX forbids it.
        if (hasZero || n != 0)
          return Status::badInput("Reshape cannot infer -1 in " + shapeToString(target) + " for input " + shapeToString(from));
        shape[static_cast<size_t>(inferred)] = 0;
      } else {
        if (n % known.value() != 0)
          return Status::badInput("Reshape cannot reshape " + shapeToString(from) + " (" + std::to_string(n) +
                                  " elements) to " + shapeToString(target));
        shape[static_cast<size_t>(inferred)] = n / known.value();
      }
    }
    auto total = checkedNumel(shape);
    if (!total) return total.status().withContext("Reshape");
    if (total.value() != n)
      return Status::badInput("Reshape cannot reshape " + shapeToString(from) + " (" + std::to_string(n) +
                              " elements) to " + shapeToString(target) + " (" + std::to_string(total.value()) + ")");
    return Status::ok();
  }

  bool fromAttr_;
  std::vector<int64_t> attrShape_;
  bool allowZero_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createReshape(const Node& node, int opset) {
  if (opset < 5) {
    if (!node.hasAttr("shape")) return Status::badInput("Reshape (opset < 5) needs a 'shape' attribute");
    return make<Reshape>(true, node.attrInts("shape"), false);
  }
  int64_t allowZero = node.attrInt("allowzero", 0);
  if (allowZero != 0 && allowZero != 1)
    return Status::badInput("Reshape allowzero must be 0 or 1, got " + std::to_string(allowZero));
  return make<Reshape>(false, std::vector<int64_t>{}, allowZero == 1);
}

}  // namespace topiary::ops
