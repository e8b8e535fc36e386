// 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
// each 4x4 output tile costs 36 multiply-adds per (input, output) channel
// pair, against 64 for four F(2x2, 3x3) tiles and 144 directly. The
// interpolation points are 0, +-1, +-2 and infinity (the paper's), whose
// transform coefficients (at most 8 and 1/24) keep fp32 results within a
// few 1e-6 of the largest output (test_winograd43: up to 3.4e-6).
//
// Layout: the tiles of a pass (several images) are flattened, 16 per
// vector, with no tile beyond each image's ceil(Ho/4) x ceil(Wo/4). The input
// is copied once into 36 tap planes per channel, plane (r, c) holding input
// value (4i + r, 4j + c) of tile (i, j) (the padded rows split by column
// modulo 4), so every tap of 16 tiles is one contiguous vector load and both
// transforms run 16 tiles per vector. (Stride-4 phase planes, as in
// WinogradPlan, need a spare tile row and column per image for the 6x6
// windows' overlap: 64 tiles for 49 at 28x28, 9 for 4 at 7x7.) Conv times
// this plan against F(2x2, 3x3) and the direct kernels per layer.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;

struct Winograd43Plan {
  int64_t cin = 0, cout = 0, H = 0, W = 0, padT = 0, padL = 0, Ho = 0, Wo = 0;
  // The window, fixed by applies(); here so that Conv sets up every plan alike.
  int64_t kH = 3, kW = 3, dH = 1, dW = 1, sH = 1, sW = 1;
  // Derived by init():
  int64_t th = 0, tw = 0;     // tile rows and columns of one image
  int64_t perImage = 0;       // tiles per image (th x tw)
  int64_t group = 1;          // images per pass
  std::vector<float> packed;  // transformed weights [cout/8][36][cin][8]
  // Set by Winograd43NmPlan::pack (kernels/winograd43_nm.h) instead: `packed`
  // holds only the kept kernels' transforms, per block of 8 outputs
  // [36][kept in the block] from nmOffsets[block]; nmMasks [cout/8][cin]
  // bit b: output b of the block keeps the channel.
  std::vector<int32_t> nmOffsets;
  std::vector<uint8_t> nmMasks;
  int64_t nmSlots = 0;
  static constexpr int kBlock = 8;   // output channels per packed block
  static constexpr int kChunk = 32;  // flattened tiles per product chunk (2 vectors; M stays in L1)
  int64_t chunk = kChunk;            // tiles per product chunk (both products take kChunk)

  // U = G g G^T of one 3x3 kernel g (row-major) into u[36] (6x6 row-major).
  static void transformKernel(const float* g, float u[36]);

  static bool applies(int64_t kH, int64_t kW, int64_t sH, int64_t sW, int64_t dH, int64_t dW) {
    return kH == 3 && kW == 3 && sH == 1 && sW == 1 && dH == 1 && dW == 1;
  }
  void init();
  // Weights [cout, cin, 3, 3], once per weight change.
  void pack(const float* w);
  int64_t scratchFloats() const;
  // `n` images x [n, cin, H, W] -> y [n, cout, Ho, Wo] = act(conv + b + r)
  // (b, act and the residual r [n, cout, Ho, Wo] may be null; r may not
  // alias y). `scratch` holds scratchFloats() floats.
  void run(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act,
           const float* r = nullptr) const;
  // One image shared with a helper thread (kernels/shared_work.h) when
  // sharable(): the two halves of its tile rows are the pieces, each a whole
  // Winograd pass of its own, when stripes(); otherwise two halves of the
  // output channels (blocks of kBlock). Same arguments and results as run()
  // with n = 1; `scratch` holds kSharedSlots x scratchFloats() floats.
  bool stripes() const;
  bool sharable() const;
  void runOneShared(const float* x, float* y, float* scratch, const float* b, const Activation* act,
                    const float* r = nullptr) const;

 private:
  // One tap plane of a pass: `group` images, then spare floats that take
  // the lanes padImage() writes past the last tile row.
  int64_t planeFloats() const;
  int64_t inputFloats() const { return cin * 36 * planeFloats() + 64; }
  // One row buffer of the transformed outputs (see pass()), with room for
  // the whole vectors written past the last tile.
  int64_t outRowFloats() const { return 4 * (group * perImage + 32); }
  // Tile rows [t0, t1) of one image into the tap planes at `dst` (tile
  // (t0, 0); channels `chan` floats apart, planes `plane` apart). Writes
  // every tile once, padding included, so the buffer needs no clearing.
  void padImage(const float* x, float* dst, int64_t chan, int64_t plane, int64_t t0, int64_t t1) const;
  // The first output channel of runOneShared()'s second half (0: no split).
  int64_t channelSplit() const;
  // n images, tile rows [t0, t1) of each (other than [0, th) with n = 1
  // only), output channels [c0, c1) (c0 a multiple of kBlock; c1 < 0: cout).
  void pass(const float* x, int64_t n, float* y, float* scratch, const float* b, const Activation* act, const float* r,
            int64_t t0, int64_t t1, int64_t c0 = 0, int64_t c1 = -1) const;
  // Rows of the output buffers into y (and residual, activation) per plane
  // of channels [c0, c1): the output rows of tile rows [t0, t1), the
  // buffers' first tile row being t0.
  void compact(const float* out, int64_t n, float* y, const Activation& act, bool actDone, const float* r, int64_t t0,
               int64_t t1, int64_t c0, int64_t c1) const;
};

}  // namespace topiary::kernels
