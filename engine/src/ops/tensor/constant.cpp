// Constant: outputs the tensor held in its one value attribute: `value` (a
// tensor), or from opset 12 `value_float(s)` / `value_int(s)`. Sparse and
// string constants are not supported (the engine stores neither).
#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {
namespace {

class Constant final : public Kernel {
 public:
  explicit Constant(Tensor value) : value_(std::move(value)) {}
  Status forward(const std::vector<const Tensor*>&, const std::vector<Tensor*>& out, const RunContext&) override {
    *out[0] = value_;
    return Status::ok();
  }

 private:
  Tensor value_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createConstant(const Node& node, int) {
  for (const char* k : {"sparse_value", "value_string", "value_strings"})
    if (node.hasAttr(k)) return Status::unsupported(std::string("Constant with a '") + k + "' attribute is not supported");
  int set = 0;
  Tensor value;
  if (const Tensor* t = node.attrTensor("value")) {
    value = *t;
    ++set;
  }
  if (node.hasAttr("value_float")) {
    value = Tensor::scalar(node.attrFloat("value_float", 0.f));
    ++set;
  }
  if (node.hasAttr("value_floats")) {
    std::vector<float> v = node.attrFloats("value_floats");
    value = Tensor::fromVector<float>({static_cast<int64_t>(v.size())}, v);
    ++set;
  }
  if (node.hasAttr("value_int")) {
    value = Tensor::fromVector<int64_t>({}, {node.attrInt("value_int", 0)});
    ++set;
  }
  if (node.hasAttr("value_ints")) {
    std::vector<int64_t> v = node.attrInts("value_ints");
    value = Tensor::fromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
    ++set;
  }
  if (set != 1)
    return Status::badInput("Constant needs exactly one value attribute (value, value_float(s) or value_int(s)); it has " +
                            std::to_string(set));
  return make<Constant>(std::move(value));
}

}  // namespace topiary::ops
