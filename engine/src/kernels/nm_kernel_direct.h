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
  void run(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b,
           const Activation* act) const;
};

}  // namespace topiary::kernels
