// X(0) X(1) ... X(255): one switch case per 8-bit mask, for the kernels
// that compile a case for every set of kept outputs of a block of 8
// (kernels/winograd43_nm.cpp, kernels/nm_kernel_direct.cpp).
#pragma once

#define TOPIARY_MASKS_4(X, k) X(k) X(k + 1) X(k + 2) X(k + 3)
#define TOPIARY_MASKS_16(X, k) \
  TOPIARY_MASKS_4(X, k) TOPIARY_MASKS_4(X, k + 4) TOPIARY_MASKS_4(X, k + 8) TOPIARY_MASKS_4(X, k + 12)
#define TOPIARY_MASKS_64(X, k) \
  TOPIARY_MASKS_16(X, k) TOPIARY_MASKS_16(X, k + 16) TOPIARY_MASKS_16(X, k + 32) TOPIARY_MASKS_16(X, k + 48)
#define TOPIARY_EACH_MASK(X) \
  TOPIARY_MASKS_64(X, 0) TOPIARY_MASKS_64(X, 64) TOPIARY_MASKS_64(X, 128) TOPIARY_MASKS_64(X, 192)
