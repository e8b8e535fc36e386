// Winograd F(4x4, 3x3) for weights pruned kernel-wise N:M ("nm_pattern":
// "kernel": of every 4 consecutive input channels of a filter at most 2
// whole 3x3 kernels are nonzero). The per-tap 2:4 pattern of the ordinary
// pruner does not survive the transform (U = G g G^T mixes the 9 taps into
// all 36 positions), but a whole zero kernel stays a zero U, so each of the
// 36 products U[xi] (cout x cin) keeps the same 2:4 pattern along cin.
//
// Same plan, transforms and buffers as Winograd43Plan (kernels/
// winograd43_conv.h); only the product differs. Dense shares each tile
// vector load over the 8 output channels of a block; here, per block of 8
// outputs and input channel, a mask says which outputs keep the channel
// (about half of them, a different half per channel), and a jump on the
// mask (256 cases, each compiled with its outputs' accumulators fixed in
// registers) runs one multiply-add per kept kernel and tile vector with
// the channel's tile vectors loaded once: half the multiply-adds of dense,
// one tile load per about 4 of them (dense: per 8). The jump targets
// repeat per position and chunk, so they are predicted. (The first version
// ran each output over its own kept channels, one tile-vector load per
// multiply-add: its product was 1.2x slower than dense's on the session-7
// machine.)
#pragma once

#include <cstdint>

#include "kernels/winograd43_conv.h"

namespace topiary::kernels {

// True when weights [cout, cin, taps] have at most n nonzero kernels in
// every group of m consecutive input channels of each filter (a shorter
// last group at most n too), m >= 2n and cin >= m (a stem with 1-3 input
// channels passes the per-group test but is dense).
bool hasKernelNmPattern(const float* w, int64_t cout, int64_t cin, int64_t taps, int n = 2, int m = 4);

struct Winograd43NmPlan : Winograd43Plan {
  // Weights [cout, cin, 3, 3]; any sparsity works, but it only pays with
  // hasKernelNmPattern(). Packs the transforms of the nonzero kernels only
  // (see Winograd43Plan::nmMasks); nmSlots is the most any output keeps.
  void pack(const float* w);
};

// M[xi][b][16 * nv] (the 8 outputs b of one block, M planes mStride apart,
// outputs `chunk` floats apart) = sum over the channels ci that output b
// keeps (bit b of masks[ci]) of its transform times V[xi][ci][..] (V
// planes vStride apart, channels `chunk` floats apart); U [36][kept], the
// kept kernels in (channel, output) order; nv <= 2.
void winograd43NmProduct(int nv, const float* V, int64_t vStride, int64_t cin, const uint8_t* masks, const float* U,
                         int64_t kept, float* M, int64_t mStride, int64_t chunk);

}  // namespace topiary::kernels
