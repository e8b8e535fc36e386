#include "ops/nn/nn_ops.h"
#include "ops/registry_parts.h"

namespace topiary {

void registerNnOps(OpRegistry& r) {
  using namespace ops;
  r.add({"Gemm", 1, INT_MAX, createGemm});
  r.add({"Conv", 1, INT_MAX, createConvWithSkipping});  // createConv unless topiary.dynamic_skip
  r.add({"MaxPool", 1, INT_MAX, createMaxPool});
  r.add({"AveragePool", 1, INT_MAX, createAveragePool});
  r.add({"GlobalAveragePool", 1, INT_MAX, createGlobalAveragePool});
  r.add({"GlobalMaxPool", 1, INT_MAX, createGlobalMaxPool});
  r.add({"BatchNormalization", 6, INT_MAX, createBatchNorm});
  r.add({"MatMul", 1, INT_MAX, createMatMul});
  r.add({"Pad", 1, INT_MAX, createPad});
  r.add({"ConvTranspose", 1, INT_MAX, createConvTranspose});
  r.add({"Resize", 10, 17, createResize});  // 18 adds antialias, axes, keep_aspect_ratio_policy
  r.add({"Upsample", 7, 9, createUpsample});
  r.add({"LayerNormalization", 17, INT_MAX, createLayerNormalization});
  r.add({"InstanceNormalization", 1, INT_MAX, createInstanceNormalization});
  r.add({"LRN", 1, INT_MAX, createLrn});
  r.add({"MeanVarianceNormalization", 9, INT_MAX, createMeanVarianceNormalization});
}

}  // namespace topiary
