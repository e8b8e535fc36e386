// Direct convolution for weights pruned kernel-wise N:M ("nm_pattern":
// "kernel": of every 4 consecutive input channels of a filter at most 2
// whole kh x kw kernels are nonzero), for the kernel sizes Winograd does not
// take (5x5, 7x7, strided, dilated).
//
// Same layout as DirectConvPlan (padded phase planes, wide output rows,
// blocks of 8 output channels with 8 x V accumulators in registers across
// every input channel and tap). Dense loads each input vector once per tap
// and feeds it to the 8 outputs of the block. Here a mask per block and
// input channel says which of the 8 keep that channel's kernel (about half,
// a different half per channel), and a jump on the mask (256 cases, each
// compiled with its outputs fixed) runs the channel's whole tap loop with
// only those outputs' multiply-adds: half the multiply-adds of dense, each
// input vector still loaded once per tap. The jump is taken once per input
// channel and serves taps x kept x V multiply-adds (5x5, 4 kept, V = 3: 300).
//
// The per-tap pattern (the pruner's default) changes the mask at every tap,
// so it cannot amortise the jump: that pattern runs nm-direct
// (kernels/nm_conv.h) instead.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;
struct DirectConvPlan;

struct NmKernelDirectPlan {
  static constexpr int kBlock = 8;  // output channels per block, as DirectConvPlan
  std::vector<uint8_t> masks;       // [cout/8][cin]: bit b = output b of the block keeps the channel
  std::vector<int64_t> start;       // per block, its first weight; blocks + 1 entries
  std::vector<float> weights;       // per block, per channel: [taps][outputs that keep it, ascending]
  bool built = false;
  int64_t cout = 0, cin = 0, taps = 0, plane = 0, wide = 0;  // p's geometry at build()

  // Weights [cout, cin, kH, kW] of the direct plan p (already init()ed).
  // False (and nothing built) unless they have the kernel-wise 2:4 pattern
  // (hasKernelNmPattern in kernels/winograd43_nm.h).
  bool build(const DirectConvPlan& p, const float* w);
  bool builtFor(const DirectConvPlan& p) const;
  // One image, as DirectConvPlan::run; scratch holds p.scratchFloats()
  // floats. Weights build() refused run on p's dense kernel (p must be packed).
  void run(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b, const Activation* act,
           const float* r = nullptr) const;

  // Output rows [oh0, oh1) of one image (batch 1 shared with a helper
  // thread): pads only the input rows they read into `scratch` and writes
  // only those rows of y, so pieces with disjoint row ranges, each with its
  // own scratch of p.scratchFloats(), may run at once. Built for p only
  // (builtFor()). (Splitting the output channels instead left every layer
  // half of its input in the other core's cache: resnet8 lost its gain.)
  void runRows(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b, const Activation* act,
               int64_t oh0, int64_t oh1, const float* r = nullptr) const;

 private:
  // Wide outputs [o0, o1) of every channel into ywide (rounded up to a
  // whole vector: up to 15 more are written).
  void compute(const DirectConvPlan& p, const float* xin, float* ywide, int64_t o0, int64_t o1) const;
};

}  // namespace topiary::kernels
