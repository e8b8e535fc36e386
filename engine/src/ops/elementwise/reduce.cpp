#include "ops/elementwise/reduce.h"

namespace topiary::ops {

Status planReduction(const Shape& srcShape, const Shape& dstShape, ReducePlan& plan) {
  BroadcastPlan<2> p;
  thread_local Shape out;  // keeps its capacity: no allocation in steady state
  const Shape* shapes[2] = {&srcShape, &dstShape};
  TOPIARY_RETURN_IF_ERROR(planBroadcast<2>(shapes, out, p));
  if (out != srcShape)
    return Status::internal("reduction: " + shapeToString(dstShape) + " does not broadcast to " +
                            shapeToString(srcShape));
  plan = ReducePlan();
  plan.srcNumel = p.numel;
  plan.dstNumel = numelOf(dstShape);
  plan.count = plan.dstNumel ? plan.srcNumel / plan.dstNumel : 0;
  if (plan.srcNumel == 0) return Status::ok();
  for (int d = 0; d < p.rank; ++d) {
    if (p.strides[1][d]) {
      plan.keptDims[plan.nk] = p.dims[d];
      plan.keptStr[plan.nk++] = p.strides[0][d];
    } else {
      plan.redDims[plan.nr] = p.dims[d];
      plan.redStr[plan.nr++] = p.strides[0][d];
    }
  }
  plan.innerReduced = p.strides[1][p.rank - 1] == 0;
  return Status::ok();
}

Status ReduceAxes::resolve(const std::vector<const Tensor*>& in) {
  const Shape& s = in[0]->shape();
  const int64_t r = static_cast<int64_t>(s.size());
  axes_.clear();
  if (axesInput_ && in.size() > 1 && in[1]) {
    if (in[1]->dtype() != DType::Int64 || in[1]->rank() > 1)
      return Status::badInput(std::string(op_) + " axes must be a 1-D int64 tensor");
    axes_.assign(in[1]->data<int64_t>(), in[1]->data<int64_t>() + in[1]->numel());
  } else if (!axesInput_) {
    axes_.assign(attrAxes_.begin(), attrAxes_.end());
  }
  noop_ = axes_.empty() && noopEmpty_;
  keepShape_.assign(s.begin(), s.end());
  if (noop_) {
    outShape_.assign(s.begin(), s.end());
    return Status::ok();
  }
  if (axes_.empty()) {
    for (int64_t d = 0; d < r; ++d) axes_.push_back(d);
  }
  for (int64_t& a : axes_) {
    if (a < -r || a >= r)
      return Status::badInput(std::string(op_) + " axis " + std::to_string(a) + " is out of range for rank " +
                              std::to_string(r));
    if (a < 0) a += r;
  }
  std::sort(axes_.begin(), axes_.end());
  if (std::adjacent_find(axes_.begin(), axes_.end()) != axes_.end())
    return Status::badInput(std::string(op_) + " axes contain a duplicate");
  for (int64_t a : axes_) keepShape_[static_cast<size_t>(a)] = 1;
  outShape_.clear();
  for (int64_t d = 0; d < r; ++d) {
    if (!std::binary_search(axes_.begin(), axes_.end(), d))
      outShape_.push_back(s[static_cast<size_t>(d)]);
    else if (keepdims_)
      outShape_.push_back(1);
  }
  return Status::ok();
}

}  // namespace topiary::ops
