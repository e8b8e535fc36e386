// Direct 2-D convolution on "wide" rows, with no im2col matrix. The input
// plane is copied once with its padding, split into stride x stride phase
// planes (rows and columns by their index modulo the stride) of Hs x Ws.
// Flattened, output (oh, ow) then reads phase(tap)[oh*Ws + ow + shift(tap)],
// so every tap is one contiguous multiply-add over the whole flattened
// plane: outputs are computed on rows Ws wide and the extra columns are
// dropped when the result is copied out. Output channels are blocked
// (up to 8) and 32 outputs kept in registers across all input channels and
// taps, so each loaded input vector feeds up to 16 multiply-adds.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/sparse_matrix.h"

namespace topiary::kernels {

struct Activation;

struct DirectConvPlan {
  int64_t cin = 0, cout = 0, H = 0, W = 0, kH = 0, kW = 0, dH = 1, dW = 1, sH = 1, sW = 1, padT = 0, padL = 0;
  int64_t Ho = 0, Wo = 0;
  // Derived by init():
  int64_t Hp = 0, Wp = 0;  // padded plane
  int64_t Hs = 0, Ws = 0;  // one phase plane
  int64_t wide = 0;        // flattened wide output per channel, rounded up to 16
  int64_t plane = 0;       // floats per input channel (all its stored phase planes)
  // Phase planes stored per channel: sH * sW, or 1 when every tap reads the
  // same phase (1x1 stride-2 projections read only phase (0, 0); copying
  // and clearing the other three was 3/4 of their input copy).
  int64_t phases = 1;
  int64_t onlyPhase = -1;  // that phase's index pr * sW + pc, else -1
  bool inPlaceInput = false, inPlaceOutput = false;
  // Rows with no extra columns (Ws == Wo): run() writes the output directly,
  // channels Ho*Wo apart, the last vector of each channel clipped, with bias
  // and activation in registers (inPlaceOutput: the same with no clipping).
  bool writeThrough = false;
  std::vector<int64_t> shifts;  // per tap
  std::vector<float> packed;    // weights as [cout/8 blocks][cin][tap][8]

  void init();
  // Where phase (pr, pc) is stored among a channel's phase planes, or -1
  // when no tap reads it.
  int64_t phaseSlot(int64_t pr, int64_t pc) const {
    const int64_t ph = pr * sW + pc;
    return onlyPhase < 0 ? ph : (ph == onlyPhase ? 0 : -1);
  }
  // Repacks weights [cout, cin, kH, kW] for the kernel (once per weight change).
  void pack(const float* w);
  int64_t scratchFloats() const { return cin * plane + wide + 16 + cout * wide + 16; }
  // One image: x [cin, H, W] -> y [cout, Ho, Wo] = act(conv + b + r) (b,
  // act and the residual r [cout, Ho, Wo] may be null). `scratch` holds
  // scratchFloats() floats. Every kernel on this layout (dense, CSR, N:M)
  // adds the residual while its output is in cache.
  void run(const float* x, float* y, float* scratch, const float* b = nullptr, const Activation* act = nullptr,
           const float* r = nullptr) const {
    runPacked(packed.data(), x, y, scratch, b, act, r);
  }
  // Same with weights packed elsewhere (depthwise: one packing per channel).
  void runPacked(const float* pack, const float* x, float* y, float* scratch, const float* b, const Activation* act,
                 const float* r = nullptr) const;
  // Sparse weights: CSR whose column indices are input offsets
  // (ci * plane + shift(tap)), so each nonzero is one multiply-add of a
  // contiguous input run into the output row: no im2col, no zero FMAs.
  CsrMatrix sparseOffsets(const float* w) const;
  // y = act(conv + b + r); r (a residual [cout, Ho, Wo]) may be null. With
  // writeThrough the product goes straight to y (one pass for bias,
  // residual and activation after it), else through the wide buffer.
  void runSparse(const CsrMatrix& offsets, const float* x, float* y, float* scratch, const float* b,
                 const Activation* act, const float* r = nullptr) const;
  // Bias, activation and row compaction of the wide output, for output
  // rows [oh0, oh1) (oh1 < 0: Ho) of every channel. Disjoint row ranges
  // may be finished by different threads at once, each from its own wide
  // buffer: nothing outside those rows of y is written. ywide == y (an
  // inPlaceOutput plan's wideOutput()) only adds bias and activation.
  // act may be null (none). r: a residual [cout, Ho, Wo] added before the
  // activation (may be null).
  void finish(float* ywide, float* y, const float* b, const Activation* act, int64_t oh0 = 0, int64_t oh1 = -1,
              const float* r = nullptr) const;
  // One image through a kernel that fills wide outputs:
  // compute(xin, ywide, o0, o1) writes outputs [o0, o1) of every channel
  // (channels `wide` floats apart; it may round o1 up to a whole vector).
  // runWide pads the whole input, computes into wideOutput() and finishes;
  // runWideRows does output rows [oh0, oh1) only, as threads sharing one
  // image each with its own scratch do: it pads only the rows they read
  // (paddedInputRows), computes into the scratch's wide buffer (never y:
  // the last vector spills into the next rows) from the whole vector that
  // holds the first row, so the last one ends by `wide` as in runWide (from
  // the row itself, a 1x1 read in place ran 15 floats past x's end), and
  // finishes those rows only.
  template <class Compute>
  void runWide(const float* x, float* y, float* scratch, const float* b, const Activation* act, const Compute& compute,
               const float* r = nullptr) const {
    float* ywide = wideOutput(y, scratch);
    compute(paddedInput(x, scratch), ywide, int64_t{0}, wide);
    finish(ywide, y, b, act, 0, -1, r);
  }
  template <class Compute>
  void runWideRows(const float* x, float* y, float* scratch, const float* b, const Activation* act, int64_t oh0,
                   int64_t oh1, const Compute& compute, const float* r = nullptr) const {
    float* ywide = scratch + cin * plane + wide + 16;
    compute(paddedInputRows(x, scratch, oh0, oh1), ywide, oh0 * Ws / 16 * 16, oh1 >= Ho ? wide : oh1 * Ws);
    finish(ywide, y, b, act, oh0, oh1, r);
  }
  // Where the sparse and N:M kernels write the wide output (channels `wide`
  // floats apart): y itself when inPlaceOutput, else the scratch after the
  // padded input.
  float* wideOutput(float* y, float* scratch) const { return inPlaceOutput ? y : scratch + cin * plane + wide + 16; }
  // The input the kernels read: x itself when inPlaceInput, else x padded
  // and phase-split into the front of `scratch` (cleared first: reads run up
  // to `wide` floats past the last plane, into lanes that are dropped).
  const float* paddedInput(const float* x, float* scratch) const;
  // The same for output rows [oh0, oh1) only: pads just the rows they read
  // (with their padding) and leaves the rest of the buffer as it was, so
  // threads sharing one image, each with its own scratch, pad only their
  // share (and read only their share's input rows of x, plus the halo).
  const float* paddedInputRows(const float* x, float* scratch, int64_t oh0, int64_t oh1) const;
  // Phase rows [q0, q1) an output row range reads: [oh0, oh1 - 1 + the
  // largest tap row offset], within Hs.
  void phaseRows(int64_t oh0, int64_t oh1, int64_t& q0, int64_t& q1) const;
  // Copies x with padding and phase split into buf (already zeroed).
  void padInput(const float* x, float* buf) const;
  // Same with the channel planes `channelStride` and the phase planes `phase`
  // floats apart (Winograd stacks several images inside each phase plane).
  // Input rows [ih0, ih1) only (ih1 < 0: all).
  void padInput(const float* x, float* buf, int64_t channelStride, int64_t phase, int64_t ih0 = 0,
                int64_t ih1 = -1) const;
  // Packs weights [cout, cin, kH, kW] into `out` (the layout run expects).
  void packInto(const float* w, std::vector<float>& out) const;
};

}  // namespace topiary::kernels
