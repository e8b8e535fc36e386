// Where: y = cond ? x : z with three-way broadcasting, for elements of any
// type (copied by size, so one loop serves every dtype). Gradient (float32):
// dy to x where cond holds and to z elsewhere, summed over broadcast dims.
#include <cstring>

#include "ops/elementwise/broadcast.h"
#include "ops/elementwise/elementwise_ops.h"

namespace topiary::ops {
namespace {

template <class T>
void select(const BroadcastPlan<3>& p, const uint8_t* c, const T* x, const T* z, T* y, int threads) {
  forEachRow<3>(p, threads, [&](int64_t i, int64_t len, const int64_t* off, const int64_t* step) {
    const uint8_t* pc = c + off[0];
    const T* px = x + off[1];
    const T* pz = z + off[2];
    for (int64_t j = 0; j < len; ++j) y[i + j] = pc[j * step[0]] ? px[j * step[1]] : pz[j * step[2]];
  });
}

class Where final : public Kernel {
 public:
  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, 3, "Where"));
    const Tensor& C = *in[0];
    const Tensor& X = *in[1];
    const Tensor& Z = *in[2];
    if (C.dtype() != DType::Bool)
      return Status::badInput(std::string("Where condition must be bool, got ") + dtypeName(C.dtype()));
    if (X.dtype() != Z.dtype())
      return Status::badInput(std::string("Where inputs have different types (") + dtypeName(X.dtype()) + " and " +
                              dtypeName(Z.dtype()) + ")");
    const Shape* shapes[3] = {&C.shape(), &X.shape(), &Z.shape()};
    TOPIARY_RETURN_IF_ERROR(planBroadcast<3>(shapes, outShape_, plan_));
    out[0]->resize(X.dtype(), outShape_);
    const uint8_t* c = C.data<uint8_t>();
    switch (dtypeSize(X.dtype())) {
      case 1:
        select(plan_, c, X.data<uint8_t>(), Z.data<uint8_t>(), out[0]->data<uint8_t>(), ctx.threads);
        break;
      case 2:
        select(plan_, c, X.data<uint16_t>(), Z.data<uint16_t>(), out[0]->data<uint16_t>(), ctx.threads);
        break;
      case 4:
        select(plan_, c, X.data<uint32_t>(), Z.data<uint32_t>(), out[0]->data<uint32_t>(), ctx.threads);
        break;
      case 8:
        select(plan_, c, X.data<uint64_t>(), Z.data<uint64_t>(), out[0]->data<uint64_t>(), ctx.threads);
        break;
      default:
        return Status::unsupported(std::string("Where on ") + dtypeName(X.dtype()) + " is not supported");
    }
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override {
    if (!gradOut[0]) return Status::ok();
    const Tensor& gy = *gradOut[0];
    for (size_t k = 1; k < 3 && k < gradIn.size(); ++k) {
      if (!gradIn[k]) continue;
      if (in[k]->dtype() != DType::Float) return Status::unsupported("Where gradients need float32 values");
      // Masked dy over the output, then summed to the operand's shape.
      const Shape* shapes[2] = {&gy.shape(), &in[0]->shape()};
      BroadcastPlan<2> p;
      TOPIARY_RETURN_IF_ERROR(planBroadcast<2>(shapes, gradShape_, p));
      scratch_.resize(DType::Float, gy.shape());
      const uint8_t* c = in[0]->data<uint8_t>();
      const float* g = gy.f();
      float* t = scratch_.f();
      const bool wantTrue = k == 1;
      forEachRow<2>(p, ctx.threads, [&](int64_t i, int64_t len, const int64_t* off, const int64_t* step) {
        for (int64_t j = 0; j < len; ++j) t[i + j] = (c[off[1] + j * step[1]] != 0) == wantTrue ? g[i + j] : 0.f;
      });
      gradIn[k]->resize(DType::Float, in[k]->shape());
      TOPIARY_RETURN_IF_ERROR(sumToShape(t, gy.shape(), gradIn[k]->f(), in[k]->shape(), ctx.threads));
    }
    return Status::ok();
  }
  double flops(const std::vector<Shape>&, const std::vector<Shape>&) const override { return 0.0; }

 private:
  Shape outShape_, gradShape_;
  BroadcastPlan<3> plan_;
  Tensor scratch_;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createWhere(const Node&, int) { return make<Where>(); }

}  // namespace topiary::ops
