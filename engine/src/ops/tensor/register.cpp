#include "ops/registry_parts.h"
#include "ops/tensor/tensor_ops.h"

namespace topiary {

void registerTensorOps(OpRegistry& r) {
  using namespace ops;
  r.add({"Flatten", 1, INT_MAX, createFlatten});
  r.add({"Reshape", 1, INT_MAX, createReshape});
  r.add({"Transpose", 1, INT_MAX, createTranspose});
  r.add({"Concat", 1, INT_MAX, createConcat});
  r.add({"Split", 1, INT_MAX, createSplit});
  r.add({"Slice", 1, INT_MAX, createSlice});
  r.add({"Squeeze", 1, INT_MAX, createSqueeze});
  r.add({"Unsqueeze", 1, INT_MAX, createUnsqueeze});
  r.add({"Shape", 1, INT_MAX, createShape});
  r.add({"Size", 1, INT_MAX, createSize});
  r.add({"Gather", 1, INT_MAX, createGather});
  r.add({"GatherElements", 11, INT_MAX, createGatherElements});
  r.add({"GatherND", 11, INT_MAX, createGatherND});  // batch_dims from opset 12
  r.add({"Constant", 1, INT_MAX, createConstant});
  r.add({"ConstantOfShape", 9, INT_MAX, createConstantOfShape});
  r.add({"Expand", 8, INT_MAX, createExpand});
  r.add({"Tile", 6, INT_MAX, createTile});  // opset 1 Tile took (tiles, axis) inputs
  r.add({"Range", 11, INT_MAX, createRange});
  r.add({"DepthToSpace", 1, INT_MAX, createDepthToSpace});  // mode (CRD) from opset 11
  r.add({"SpaceToDepth", 1, INT_MAX, createSpaceToDepth});
  r.add({"Trilu", 14, INT_MAX, createTrilu});
  r.add({"CumSum", 11, INT_MAX, createCumSum});
  r.add({"OneHot", 9, INT_MAX, createOneHot});  // negative indices from opset 11, accepted at 9 too
  r.add({"TopK", 1, INT_MAX, createTopK});      // k an input from 10; largest, sorted from 11
  r.add({"NonZero", 9, INT_MAX, createNonZero});
  r.add({"Scatter", 9, 10, createScatter});                        // renamed ScatterElements at 11
  r.add({"ScatterElements", 11, INT_MAX, createScatterElements});  // reduction add/mul 16, max/min 18
  r.add({"ScatterND", 11, INT_MAX, createScatterND});              // the same reductions
  r.add({"Compress", 9, INT_MAX, createCompress});
  r.add({"EyeLike", 9, INT_MAX, createEyeLike});
  r.add({"ReverseSequence", 10, INT_MAX, createReverseSequence});
  r.add({"Einsum", 12, INT_MAX, createEinsum});
}

}  // namespace topiary
