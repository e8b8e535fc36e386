#include "kernels/nm_conv.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "kernels/activation.h"
#include "kernels/direct_conv.h"
#include "kernels/vec.h"

namespace topiary::kernels {

namespace {

// Rows r .. r+B-1 on one block of V vectors: B*V accumulators over every
// slot of the rows (added to y when `add`). x is the block's staging buffer
// (one aligned row of 16V floats per column), offsets are column indices.
template <int B, int V>
inline void stagedBlock(const BalancedRows& w, int64_t r, const float* x, float* y, int64_t ldy, bool add) {
  const int64_t perRow = w.perRow;
  const int32_t* off = w.offsets.data() + r * perRow;
  const float* val = w.values.data() + r * perRow;
  v16 acc[B][V];
  for (int b = 0; b < B; ++b)
    for (int v = 0; v < V; ++v) acc[b][v] = add ? load16(y + b * ldy + 16 * v) : v16{};
  for (int64_t i = 0; i < perRow; ++i)
    for (int b = 0; b < B; ++b) {
      const float* xs = x + static_cast<int64_t>(off[b * perRow + i]) * (16 * V);
      const float s = val[b * perRow + i];
      for (int v = 0; v < V; ++v) acc[b][v] += s * load16(xs + 16 * v);
    }
  for (int b = 0; b < B; ++b)
    for (int v = 0; v < V; ++v) store16(y + b * ldy + 16 * v, acc[b][v]);
}

// Outputs [o, o + 16V) of every row from one chunk of columns: the columns'
// input runs are first copied to an aligned staging buffer (each is read by
// about half the rows; an unaligned 64-byte load costs about twice an
// aligned one, and the direct layout's tap shifts make most of them
// unaligned), then B rows at a time keep 6 or more accumulators in flight.
template <int V>
void stagedRows(const NmConvPlan::Chunk& c, const float* x, float* buf, float* y, int64_t ldy, int64_t o, bool add) {
  const int64_t cols = static_cast<int64_t>(c.colOffset.size());
  for (int64_t k = 0; k < cols; ++k) {
    const float* src = x + c.colOffset[static_cast<size_t>(k)] + o;
    for (int v = 0; v < V; ++v) store16(buf + k * 16 * V + 16 * v, load16(src + 16 * v));
  }
  constexpr int B = V == 1 ? 6 : V == 2 ? 3 : V <= 4 ? 2 : 1;  // 6 or 8 accumulators
  const int64_t rows = c.rows.rows;
  int64_t r = 0;
  for (; r + B <= rows; r += B) stagedBlock<B, V>(c.rows, r, buf, y + r * ldy + o, ldy, add);
  for (; r < rows; ++r) stagedBlock<1, V>(c.rows, r, buf, y + r * ldy + o, ldy, add);
}

// Outputs [o, o + 16V) of every row, chunk after chunk.
template <int V>
void allChunks(const NmConvPlan& pl, const float* x, float* buf, float* y, int64_t ldy, int64_t o) {
  for (size_t i = 0; i < pl.chunks.size(); ++i) stagedRows<V>(pl.chunks[i], x, buf, y, ldy, o, i > 0);
}

}  // namespace

bool BalancedRows::fromDense(const float* w, int64_t rows, int64_t cols, const int64_t* colOffset, int64_t maxSlots,
                             BalancedRows& out) {
  int64_t most = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t nz = 0;
    for (int64_t k = 0; k < cols; ++k) nz += w[r * cols + k] != 0.f;
    most = std::max(most, nz);
  }
  if (most > maxSlots) return false;
  for (int64_t k = 0; k < cols; ++k)
    if (colOffset[k] < 0 || colOffset[k] > std::numeric_limits<int32_t>::max()) return false;
  out = BalancedRows{};
  out.rows = rows;
  out.perRow = most;
  out.offsets.assign(static_cast<size_t>(rows * most), 0);
  out.values.assign(static_cast<size_t>(rows * most), 0.f);
  std::vector<std::pair<int64_t, float>> row;
  for (int64_t r = 0; r < rows; ++r) {
    row.clear();
    for (int64_t k = 0; k < cols; ++k)
      if (w[r * cols + k] != 0.f) row.emplace_back(colOffset[k], w[r * cols + k]);
    // Ascending offsets: the reads of a row walk the input forwards.
    std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    // Padding slots repeat the last offset (a line already in cache) with value 0.
    int64_t last = row.empty() ? 0 : row.back().first;
    for (int64_t i = 0; i < most; ++i) {
      const size_t s = static_cast<size_t>(r * most + i);
      const bool real = i < static_cast<int64_t>(row.size());
      out.offsets[s] = static_cast<int32_t>(real ? row[static_cast<size_t>(i)].first : last);
      out.values[s] = real ? row[static_cast<size_t>(i)].second : 0.f;
    }
  }
  return true;
}

bool hasChannelNmPattern(const float* w, int64_t cout, int64_t cin, int64_t taps, int n, int m) {
  if (n < 1 || m < 2 * n) return false;
  for (int64_t co = 0; co < cout; ++co)
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t c0 = 0; c0 < cin; c0 += m) {
        int nz = 0;
        for (int64_t ci = c0; ci < std::min<int64_t>(cin, c0 + m); ++ci) nz += w[(co * cin + ci) * taps + t] != 0.f;
        if (nz > n) return false;
      }
  return true;
}

bool channelNmPattern(const float* w, int64_t cout, int64_t cin, int64_t taps, int& n, int& m) {
  // Sparsest first, so the reported pattern is the tightest one that holds.
  const int patterns[][2] = {{1, 4}, {2, 8}, {1, 2}, {2, 4}, {4, 8}};
  for (const auto& nm : patterns)
    if (hasChannelNmPattern(w, cout, cin, taps, nm[0], nm[1])) {
      n = nm[0];
      m = nm[1];
      return true;
    }
  return false;
}

bool NmConvPlan::build(const DirectConvPlan& p, const float* w) {
  const int64_t taps = p.kH * p.kW, cols = p.cin * taps;
  chunks.clear();
  cout = p.cout;
  cin = p.cin;
  plane = p.plane;
  shifts = p.shifts;
  if (!channelNmPattern(w, p.cout, p.cin, taps, n, m)) return false;
  // Chunks of whole N:M groups of input channels with at most
  // kStagedFloats / 96 columns (at least one group), so the staged runs of
  // one chunk stay in L1 at 6 vectors per column.
  const int64_t groups = (p.cin + m - 1) / m, most = std::max<int64_t>(1, kStagedFloats / 96 / taps / m);
  const int64_t parts = (groups + most - 1) / most, step = (groups + parts - 1) / parts * m;  // even chunks
  std::vector<float> sub;
  std::vector<int64_t> colOffset, index;
  for (int64_t c0 = 0; c0 < p.cin; c0 += step) {
    const int64_t c1 = std::min(p.cin, c0 + step), width = (c1 - c0) * taps;
    sub.assign(static_cast<size_t>(p.cout * width), 0.f);
    for (int64_t co = 0; co < p.cout; ++co)
      std::copy(w + co * cols + c0 * taps, w + co * cols + c1 * taps, sub.begin() + co * width);
    // Only columns some row uses are staged, in input order; unused columns
    // are all zero, so mapping them to column 0 is harmless.
    Chunk c;
    index.assign(static_cast<size_t>(width), 0);
    std::vector<std::pair<int64_t, int64_t>> byOffset;  // (input offset, column)
    for (int64_t k = 0; k < width; ++k)
      for (int64_t co = 0; co < p.cout; ++co)
        if (sub[static_cast<size_t>(co * width + k)] != 0.f) {
          byOffset.emplace_back((c0 + k / taps) * p.plane + p.shifts[static_cast<size_t>(k % taps)], k);
          break;
        }
    if (byOffset.empty()) continue;
    std::sort(byOffset.begin(), byOffset.end());
    for (size_t i = 0; i < byOffset.size(); ++i) {
      c.colOffset.push_back(byOffset[i].first);
      index[static_cast<size_t>(byOffset[i].second)] = static_cast<int64_t>(i);
    }
    if (!BalancedRows::fromDense(sub.data(), p.cout, width, index.data(), width, c.rows)) {
      chunks.clear();
      return false;
    }
    chunks.push_back(std::move(c));
  }
  built = true;
  return true;
}

bool NmConvPlan::builtFor(const DirectConvPlan& p) const {
  return built && cout == p.cout && cin == p.cin && plane == p.plane && shifts == p.shifts;
}

void NmConvPlan::stagingShape(int64_t& cols, int64_t& most) const {
  cols = 0;
  for (const auto& c : chunks) cols = std::max<int64_t>(cols, static_cast<int64_t>(c.colOffset.size()));
  most = std::max<int64_t>(1, std::min<int64_t>(6, kStagedFloats / 16 / std::max<int64_t>(1, cols)));
}

int64_t NmConvPlan::scratchFloats(const DirectConvPlan& p) const {
  int64_t cols = 0, most = 1;
  stagingShape(cols, most);
  return p.scratchFloats() + cols * 16 * most + 16;
}

void NmConvPlan::run(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b,
                     const Activation* act, const float* r) const {
  if (!builtFor(p)) return p.run(x, y, scratch, b, act, r);
  p.runWide(
      x, y, scratch, b, act,
      [&](const float* xin, float* ywide, int64_t o0, int64_t o1) { compute(p, xin, ywide, scratch, o0, o1); }, r);
}

void NmConvPlan::runRows(const DirectConvPlan& p, const float* x, float* y, float* scratch, const float* b,
                         const Activation* act, int64_t oh0, int64_t oh1, const float* r) const {
  p.runWideRows(
      x, y, scratch, b, act, oh0, oh1,
      [&](const float* xin, float* ywide, int64_t o0, int64_t o1) { compute(p, xin, ywide, scratch, o0, o1); }, r);
}

void NmConvPlan::compute(const DirectConvPlan& p, const float* xin, float* ywide, float* scratch, int64_t o0,
                         int64_t o1) const {
  const int64_t end = o0 + (o1 - o0 + 15) / 16 * 16;
  if (chunks.empty()) {  // all weights zero
    for (int64_t co = 0; co < p.cout; ++co) std::fill(ywide + co * p.wide + o0, ywide + co * p.wide + end, 0.f);
    return;
  }
  // Outputs in blocks of up to 6 vectors (fewer scalar loads of weights
  // and offsets per multiply-add), fewer when a chunk's staged runs would
  // not fit L1 (5x5 and 7x7 taps: one N:M group is 100 or 196 columns).
  int64_t cols = 0, most = 1;
  stagingShape(cols, most);
  float* staging = scratch + p.scratchFloats();  // scratchFloats(p) - p.scratchFloats() floats
  float* buf = align64(staging);
  for (int64_t o = o0; o < end;) {
    const int64_t left = (end - o) / 16;
    // 5 vectors left go as 3 + 2 (no 5-wide block); 6+ as 6 unless that leaves 1 (then 4 first).
    int64_t v = std::min(most, left == 5 ? 3 : left == 7 ? 4 : left);
    switch (v) {
      case 6:
        allChunks<6>(*this, xin, buf, ywide, p.wide, o);
        break;
      case 5:
      case 4:
        v = 4, allChunks<4>(*this, xin, buf, ywide, p.wide, o);
        break;
      case 3:
        allChunks<3>(*this, xin, buf, ywide, p.wide, o);
        break;
      case 2:
        allChunks<2>(*this, xin, buf, ywide, p.wide, o);
        break;
      default:
        v = 1, allChunks<1>(*this, xin, buf, ywide, p.wide, o);
        break;
    }
    o += 16 * v;
  }
}

}  // namespace topiary::kernels
