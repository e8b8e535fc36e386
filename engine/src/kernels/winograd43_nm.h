// Winograd F(4x4, 3x3) for weights pruned kernel-wise N:M ("nm_pattern":
// "kernel": of every 4 consecutive input channels of a filter at most 2
// whole 3x3 kernels are nonzero). The per-tap 2:4 pattern of the ordinary
// pruner does not survive the transform (U = G g G^T mixes the 9 taps into
// all 36 positions), but a whole zero kernel stays a zero U, so each of the
// 36 products U[xi] (cout x cin) keeps the same 2:4 pattern along cin.
//
// Same plan, transforms and buffers as Winograd43Plan (kernels/
// winograd43_conv.h); only the product differs: per output channel, its
// kept channels (the same list for all 36 positions) with the tiles in the
// vector lanes. Dense shares each tile load over 8 output channels; here
// every multiply-add loads its own tile vector (which channels an output
// reads differs per output), so the kernel halves the multiply-adds but
// not the loads per multiply-add: one 64-byte tile load per multiply-add,
// one weight broadcast and one channel offset per 4 (chunks of 64 tiles: 4
// tile vectors share each weight). With 16 tiles or fewer per chunk (7x7
// planes, 14x14 at batch 1) a weight serves one vector and the dense plan
// usually wins; Conv times both.
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
  // Winograd43Plan::init, with 64 tiles per product chunk.
  void init();
  // Weights [cout, cin, 3, 3]; any sparsity works (padding slots hold 0),
  // but it only pays with hasKernelNmPattern(). Packs the transforms of the
  // nonzero kernels only; nmSlots is the most any output channel keeps.
  void pack(const float* w);
};

// M[xi][b][16 * nv] (b < B outputs, M planes mStride apart, outputs
// `chunk` floats apart) = sum over slots j of U[xi][j][b] * V[xi][off[j][b]
// ..], V planes vStride apart; U [36][slots][8], off [slots][8]; nv <= 4.
void winograd43NmProduct(int nv, int B, const float* V, int64_t vStride, const float* U, const int32_t* off,
                         int64_t slots, float* M, int64_t mStride, int64_t chunk);

}  // namespace topiary::kernels
