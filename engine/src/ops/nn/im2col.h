// Lowering of a windowed operator to one GEMM: im2col copies every input
// element a window tap reads into a [channels * taps, outputs] matrix (zeros
// where the tap falls into padding); col2im scatters such a matrix back,
// adding overlapping taps (the adjoint, used by Conv's dX and ConvTranspose).
#pragma once

#include <cstdint>

#include "ops/nn/window.h"

namespace topiary::ops {

// x: [channels, w.in...]; col: [channels * w.kSize(), w.outSize()].
void im2col(const float* x, int64_t channels, const Window& w, float* col, int threads);
// x += col2im(col); x must be initialised by the caller.
void col2imAdd(const float* col, int64_t channels, const Window& w, float* x, int threads);

}  // namespace topiary::ops
