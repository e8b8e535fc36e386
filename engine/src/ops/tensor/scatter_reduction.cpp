#include "ops/tensor/scatter_reduction.h"

#include <algorithm>
#include <cstring>

#include "ops/elementwise/dispatch.h"
#include "ops/tensor/tensor_util.h"

namespace topiary::ops {

Result<ScatterReduction> parseScatterReduction(const Node& node, int opset, const std::string& op) {
  const std::string r = node.attrString("reduction", "none");
  if (r == "none") return ScatterReduction::None;
  if (opset >= 16 && r == "add") return ScatterReduction::Add;
  if (opset >= 16 && r == "mul") return ScatterReduction::Mul;
  if (opset >= 18 && r == "max") return ScatterReduction::Max;
  if (opset >= 18 && r == "min") return ScatterReduction::Min;
  return Status::badInput(op + " attribute 'reduction' = '" + r + "' is not valid at opset " + std::to_string(opset));
}

Status scatterInto(Tensor& data, const Tensor& updates, const std::vector<int64_t>& offsets, int64_t block,
                   ScatterReduction reduction, const std::string& op) {
  if (reduction == ScatterReduction::None) {
    const size_t es = dtypeSize(data.dtype()), bytes = static_cast<size_t>(block) * es;
    char* dst = static_cast<char*>(data.raw());
    const char* src = static_cast<const char*>(updates.raw());
    if (bytes == 0) return Status::ok();
    for (size_t i = 0; i < offsets.size(); ++i)
      std::memcpy(dst + static_cast<size_t>(offsets[i]) * es, src + i * bytes, bytes);
    return Status::ok();
  }
  const bool known = visitNumeric(data.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* dst = data.data<T>();
    const T* src = updates.data<T>();
    for (size_t i = 0; i < offsets.size(); ++i)
      for (int64_t j = 0; j < block; ++j) {
        T& d = dst[offsets[i] + j];
        const T u = src[static_cast<int64_t>(i) * block + j];
        switch (reduction) {
          case ScatterReduction::Add:
            d = wrapAdd<T>(d, u);
            break;
          case ScatterReduction::Mul:
            d = wrapMul<T>(d, u);
            break;
          case ScatterReduction::Max:
            d = std::max(d, u);
            break;
          case ScatterReduction::Min:
            d = std::min(d, u);
            break;
          case ScatterReduction::None:
            break;
        }
      }
  });
  if (!known) return Status::unsupported(op + " reduction does not support type " + dtypeName(data.dtype()));
  return Status::ok();
}

double scatterFlops(const std::vector<Shape>& in, ScatterReduction reduction) {
  if (reduction == ScatterReduction::None || in.size() < 3) return 0.0;
  double n = 1.0;
  for (int64_t d : in[2]) n *= static_cast<double>(std::max<int64_t>(d, 0));
  return n;
}

}  // namespace topiary::ops
