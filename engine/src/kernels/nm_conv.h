// N:M (2:4) sparse direct convolution. N:M pruning keeps n of every m
// weights along the input channels (the pruner's groups: m consecutive input
// channels at one tap), so every output channel has the same number of
// nonzeros. They are stored as rows of equal length ("balanced rows", an
// ELL format): a value and the input offset it reads in DirectConvPlan's
// padded phase-plane layout (ci * plane + shift(tap)), so each nonzero is
// one multiply-add of a contiguous run of the wide plane, with no im2col.
//
// Why not the CSR direct kernel's loop order: it runs one output channel over
// the whole plane before the next, so every channel streams the whole
// padded input from L2. Here a block of 48 outputs is computed for every
// output channel before moving on: the few kilobytes of input that block
// reads stay in L1 and serve all output channels, two channels at a time
// with 6 independent accumulators (the multiply-add latency is hidden).
// Each multiply-add still loads its input vector (from L1): which input
// rows a channel needs differs per channel and per group, so they cannot
// be shared through registers without generated code.
#pragma once

#include <cstdint>
#include <vector>

namespace topiary::kernels {

struct Activation;
struct DirectConvPlan;

struct BalancedRows {
  int64_t rows = 0, perRow = 0;  // slots per row
  std::vector<int32_t> offsets;  // rows * perRow input offsets, ascending within a row
  std::vector<float> values;     // rows * perRow; padding slots hold 0

  // From dense rows w[rows, cols], column k reading input offset colOffset[k].
  // False when some row holds more than maxSlots nonzeros.
  static bool fromDense(const float* w, int64_t rows, int64_t cols, const int64_t* colOffset, int64_t maxSlots,
                        BalancedRows& out);
};

// True when weights [cout, cin, taps] keep at most n of every m consecutive
// input channels at each tap (a last, shorter group at most n too) and
// n / m <= 1/2: the N:M patterns this kernel is meant for.
bool hasChannelNmPattern(const float* w, int64_t cout, int64_t cin, int64_t taps, int n, int m);
// The N:M pattern (n, m) of such weights among 1:2, 1:4, 2:4, 2:8, 4:8, or false.
bool channelNmPattern(const float* w, int64_t cout, int64_t cin, int64_t taps, int& n, int& m);
inline bool hasChannelNmPattern(const float* w, int64_t cout, int64_t cin, int64_t taps) {
  int n, m;
  return channelNmPattern(w, cout, cin, taps, n, m);
}

struct NmConvPlan {
  // Columns (input channel x tap) in chunks of whole groups, each chunk's
  // rows (one per output channel) indexing its columns' input offsets
  // (ci * plane + shift, ascending).
  struct Chunk {
    BalancedRows rows;
    std::vector<int64_t> colOffset;
  };
  static constexpr int64_t kStagedFloats = 7 * 1024;  // 28 KB of staged input runs: 72 columns x 6 vectors
  std::vector<Chunk> chunks;
  int n = 0, m = 0;  // the pattern found by build()
  bool built = false;
  int64_t cout = 0, cin = 0, plane = 0;  // p's geometry at build()
  std::vector<int64_t> shifts;

  // Weights [cout, cin, kH, kW] of the direct plan p (already init()ed).
  // False when they have no N:M pattern (channelNmPattern).
  bool build(const DirectConvPlan& p, const float* w);
  // Whether build() succeeded for p's current geometry.
  bool builtFor(const DirectConvPlan& p) const;
  // Floats of scratch run() needs for p: p.scratchFloats() plus the staging
  // buffer of the input runs (so the caller's scratch holds it and a warm
  // run allocates nothing, whichever thread runs it).
  int64_t scratchFloats(const DirectConvPlan& p) const;
  // The staged runs' widest chunk (columns) and vectors per block.
  void stagingShape(int64_t& cols, int64_t& most) const;
  // One image, as DirectConvPlan::run (scratch: scratchFloats(p) floats).
  // Weights build() refused run on p's dense kernel (p must be packed).
  void run(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b, const Activation* act,
           const float* r = nullptr) const;
  // Output rows [oh0, oh1) only, as NmKernelDirectPlan::runRows: pieces
  // with disjoint rows, each with its own scratch of scratchFloats(p), may
  // run at once. Built for p only (builtFor()).
  void runRows(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b, const Activation* act,
               int64_t oh0, int64_t oh1, const float* r = nullptr) const;

 private:
  // Wide outputs [o0, o1) of every channel into ywide (rounded up to a
  // whole vector); the staging buffer is in scratch.
  void compute(const DirectConvPlan& p, const float* xin, float* ywide, float* scratch, int64_t o0, int64_t o1) const;
};

}  // namespace topiary::kernels
