// 1x1 stride-1 convolution (a pointwise layer, NCHW) with element-sparse
// weights: y[co] = act(sum over kept (ci, w) of w * x[ci] + b[co] (+ r[co])).
//
// Each output channel keeps the list of its nonzero weights and their input
// channels. For one output channel and a chunk of up to 128 pixels, the sum
// is held in 8 registers: every kept weight adds its input channel's chunk
// (one load and one multiply-add per vector), then bias, residual and
// activation are applied and the chunk is stored once. At 90% sparsity a
// 16 -> 32 channel layer keeps about 51 weights, so the whole layer is about
// 51 + 32 passes over a plane instead of the CSR product's row updates
// followed by a separate bias-and-activation pass over the output.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct PointwiseSparsePlan {
  int64_t cin = 0, cout = 0;
  std::vector<int64_t> first;  // output co's weights are [first[co], first[co + 1])
  std::vector<int64_t> input;  // per kept weight: its input channel
  std::vector<float> value;    // per kept weight: its value
  std::vector<float> bias;     // cout entries (zero without a bias)

  // Weights [cout, cin] (a 1x1 kernel's [cout, cin, 1, 1]) and bias [cout] (may be null).
  void pack(const float* w, const float* b, int64_t cout, int64_t cin);
  int64_t nonzeros() const { return static_cast<int64_t>(value.size()); }
  // One image of P pixels, output channels [c0, c1): x [cin, P] -> y [cout, P];
  // r [cout, P] (may be null) is added before act (may be null). No
  // allocation: when P is not a multiple of 16, x is first copied to `stage`
  // (stageFloats(P) floats, owned by the caller, one per concurrent call;
  // null runs on x in place) with every plane 64-byte aligned.
  void run(const float* x, int64_t P, float* y, const float* r, const Activation* act, int64_t c0, int64_t c1,
           float* stage = nullptr) const;
  int64_t stageFloats(int64_t P) const;

 private:
  static int64_t stagedStride(int64_t P);  // 0: planes already aligned (P % 16 == 0)
};

}  // namespace topiary::kernels
