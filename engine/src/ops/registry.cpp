#include <algorithm>

#include "ops/registry_parts.h"
#include "topiary/kernel.h"

namespace topiary {

Status Kernel::backward(const std::vector<const Tensor*>&, const std::vector<const Tensor*>&,
                        const std::vector<const Tensor*>&, const std::vector<Tensor*>&, const RunContext&) {
  return Status::unsupported("this operator has no backward pass");
}

double Kernel::flops(const std::vector<Shape>&, const std::vector<Shape>&) const { return 0.0; }

const OpRegistry& OpRegistry::instance() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    // One registration function per operator family; each lists its operators.
    registerNnOps(r);
    registerElementwiseOps(r);
    registerTensorOps(r);
    registerQuantOps(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(OpSchema schema) { schemas_.push_back(std::move(schema)); }

const OpSchema* OpRegistry::find(const std::string& opType, int64_t opset) const {
  for (const auto& s : schemas_)
    if (s.opType == opType && opset >= s.sinceVersion && opset <= s.untilVersion) return &s;
  return nullptr;
}

bool OpRegistry::claims(const std::string& opType) const {
  return std::any_of(schemas_.begin(), schemas_.end(), [&](const OpSchema& s) { return s.opType == opType; });
}

std::vector<std::string> OpRegistry::opTypes() const {
  std::vector<std::string> out;
  for (const auto& s : schemas_) out.push_back(s.opType);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::unique_ptr<Kernel>> OpRegistry::build(const Node& node, int64_t opset) const {
  if (!node.domain.empty())
    return Status::unsupported("unsupported operator '" + node.domain + "." + node.opType + "' (node '" +
                               node.label() + "'): only the default ONNX domain is supported");
  const OpSchema* s = find(node.opType, opset);
  if (!s) {
    if (claims(node.opType))
      return Status::unsupported("operator '" + node.opType + "' (node '" + node.label() +
                                 "') is not supported at opset " + std::to_string(opset));
    return Status::unsupported("unsupported operator '" + node.opType + "' (node '" + node.label() + "')");
  }
  auto k = s->create(node, static_cast<int>(opset));
  if (!k) return k.status().withContext("node '" + node.label() + "' (" + node.opType + ")");
  return k;
}

}  // namespace topiary
