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
}

}  // namespace topiary
