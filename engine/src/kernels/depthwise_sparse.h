// Depthwise 2-D convolution with element-sparse weights (unstructured
// pruning). Each channel keeps only its nonzero taps, and each tap is one
// shifted multiply-add of the channel's input plane into its output plane.
// At 90% sparsity a 3x3 channel keeps 0.9 of its 9 taps on average, but the
// channel-interleaved dense kernel (depthwise_conv.h) still runs a tap for a
// block of 16 channels when any one of them needs it (1 - 0.9^16 = 81% of
// the taps), so the dense kernel cannot profit from the zeros.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct DepthwiseSparsePlan {
  int64_t C = 0, H = 0, W = 0, kH = 0, kW = 0, dH = 1, dW = 1, sH = 1, sW = 1, padT = 0, padL = 0;
  int64_t Ho = 0, Wo = 0;
  // Stride 1 with Wo == W (same padding): output i = oh * Wo + ow reads input
  // i + ih * W + iw for every tap, so the plane is run as one flat row and
  // small planes fill whole vectors (7x7: 4 vectors instead of 7 rows of 7
  // lanes). Set by pack.
  bool flat = false;

  // One kept tap: the output rows [oh0, oh1) and columns [ow0, ow1) whose
  // input (row oh * sH + ih, column ow * sW + iw) lies inside the image.
  struct Tap {
    float w = 0;
    int64_t ih = 0, iw = 0;  // input offset of output (0, 0): kh * dH - padT, kw * dW - padL
    int64_t oh0 = 0, oh1 = 0, ow0 = 0, ow1 = 0;
    int64_t masks = 0;  // its lane masks in laneMasks: per 128-output chunk of a row, 8 (one per vector)
    int64_t shift = 0;  // flat: ih * W + iw, and masks is shared by every tap at this (kh, kw)
  };
  std::vector<Tap> taps;       // channel c's taps are [first[c], first[c + 1])
  std::vector<int64_t> first;  // C + 1 entries
  std::vector<float> bias;     // C entries (zero without a bias)
  // Per tap, chunk and vector: which inputs the vector's valid lanes read
  // (strides 1 and 2; 0 where no lane is inside the image). Flat: per kernel
  // position and vector of the flat plane, which lanes' inputs are inside.
  std::vector<uint32_t> laneMasks;

  // Weights [C, 1, kH, kW] and bias [C] (may be null); the geometry above set.
  void pack(const float* w, const float* b);
  int64_t nonzeros() const { return static_cast<int64_t>(taps.size()); }
  // One image, channels [c0, c1): x [C, H, W] -> y [C, Ho, Wo] = act(conv + b)
  // (act may be null). No scratch, no allocation.
  void run(const float* x, float* y, const Activation* act, int64_t c0, int64_t c1) const;
};

}  // namespace topiary::kernels
