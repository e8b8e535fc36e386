// Pad: constant, reflect and edge padding (negative pads crop). The pads come
// from the 'paddings' (opset 1) or 'pads' (opsets 2-10) attribute, or from the
// second input (opset 11+, with an optional constant_value input and, from
// opset 18, an optional axes input). Any element type; backward (float) sums
// each output gradient into the input element it was copied from.
#include <cstring>

#include "ops/common.h"
#include "ops/nn/nn_ops.h"
#include "ops/scratch.h"

namespace topiary::ops {
namespace {

enum class PadMode { Constant, Reflect, Edge };

class Pad final : public Kernel {
 public:
  Pad(PadMode mode, std::vector<int64_t> attrPads, float attrValue, bool fromInputs)
      : mode_(mode), attrPads_(std::move(attrPads)), attrValue_(attrValue), fromInputs_(fromInputs) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    Tensor& Y = *out[0];
    Y.resize(X.dtype(), outShape_);
    if (Y.numel() == 0) return Status::ok();
    // The fill value converted to X's type, as raw bytes.
    double value = attrValue_;
    if (fromInputs_ && in.size() > 2 && in[2] && in[2]->numel() > 0) value = in[2]->toDoubles()[0];
    if (fillValue_.empty() || fillValue_.dtype() != X.dtype() || value != fillDouble_) {
      fillValue_ = Tensor::fromVector<double>({1}, {value}).cast(X.dtype());
      fillDouble_ = value;
    }
    const size_t es = dtypeSize(X.dtype());
    const int r = X.rank();
    const int64_t rowLen = outShape_[static_cast<size_t>(r - 1)], rows = Y.numel() / rowLen;
    const char* x = static_cast<const char*>(X.raw());
    char* y = static_cast<char*>(Y.raw());
    const char* fill = static_cast<const char*>(fillValue_.raw());
    parallelFor(rows, ctx.threads, [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; ++row) {
        int64_t src = sourceRow(row);
        char* yr = y + static_cast<size_t>(row * rowLen) * es;
        const std::vector<int64_t>& last = map_[static_cast<size_t>(r - 1)];
        const int64_t inLen = X.shape()[static_cast<size_t>(r - 1)];
        for (int64_t o = 0; o < rowLen; ++o) {
          int64_t i = src < 0 ? -1 : last[static_cast<size_t>(o)];
          std::memcpy(yr + static_cast<size_t>(o) * es, i < 0 ? fill : x + static_cast<size_t>(src * inLen + i) * es, es);
        }
      }
    }, 16);
    return Status::ok();
  }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext&) override {
    if (gradIn.empty() || !gradIn[0] || gradOut.empty() || !gradOut[0]) return Status::ok();
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    TOPIARY_RETURN_IF_ERROR(expectFloat(*in[0], "Pad"));
    if (gradOut[0]->shape() != outShape_) return Status::badInput("Pad output gradient has shape " + shapeToString(gradOut[0]->shape()));
    Tensor& GX = *gradIn[0];
    GX.resize(DType::Float, in[0]->shape());
    GX.setZero();
    if (GX.numel() == 0 || gradOut[0]->numel() == 0) return Status::ok();
    const int r = in[0]->rank();
    const int64_t rowLen = outShape_[static_cast<size_t>(r - 1)], rows = gradOut[0]->numel() / rowLen;
    const int64_t inLen = in[0]->shape()[static_cast<size_t>(r - 1)];
    const std::vector<int64_t>& last = map_[static_cast<size_t>(r - 1)];
    // Reflect/edge map several outputs onto one input, so this runs in order.
    for (int64_t row = 0; row < rows; ++row) {
      int64_t src = sourceRow(row);
      if (src < 0) continue;
      const float* g = gradOut[0]->f() + row * rowLen;
      float* gx = GX.f() + src * inLen;
      for (int64_t o = 0; o < rowLen; ++o)
        if (last[static_cast<size_t>(o)] >= 0) gx[last[static_cast<size_t>(o)]] += g[o];
    }
    return Status::ok();
  }

 private:
  // Input row (over all axes but the last) feeding output row `row`, or -1 when it is padding.
  int64_t sourceRow(int64_t row) const {
    int64_t src = 0, rem = row, stride = 1;
    for (size_t d = outShape_.size() - 1; d-- > 0;) {
      int64_t o = rem % outShape_[d];
      rem /= outShape_[d];
      int64_t i = map_[d][static_cast<size_t>(o)];
      if (i < 0) return -1;
      src += i * stride;
      stride *= inShape_[d];
    }
    return src;
  }

  Status prepare(const std::vector<const Tensor*>& in) {
    TOPIARY_RETURN_IF_ERROR(expectInputs(in, fromInputs_ ? 2 : 1, "Pad"));
    const Tensor& X = *in[0];
    const int64_t r = X.rank();
    if (r == 0) return Status::badInput("Pad needs an input of rank >= 1");
    std::vector<int64_t> pads = attrPads_;
    if (fromInputs_) {
      pads = in[1]->toInt64s();
      if (in.size() > 3 && in[3] && in[3]->numel() > 0) {
        // opset 18: pads cover only the listed axes.
        std::vector<int64_t> axes = in[3]->toInt64s(), full(static_cast<size_t>(2 * r), 0);
        if (pads.size() != 2 * axes.size())
          return Status::badInput("Pad has " + std::to_string(pads.size()) + " pads for " + std::to_string(axes.size()) + " axes");
        for (size_t k = 0; k < axes.size(); ++k) {
          TOPIARY_RETURN_IF_ERROR(normalizeAxis(axes[k], r, "Pad axis"));
          full[static_cast<size_t>(axes[k])] = pads[k];
          full[static_cast<size_t>(axes[k] + r)] = pads[k + axes.size()];
        }
        pads = full;
      }
    }
    if (pads.size() != static_cast<size_t>(2 * r))
      return Status::badInput("Pad has " + std::to_string(pads.size()) + " pads for an input of rank " + std::to_string(r) +
                              " (expected " + std::to_string(2 * r) + ")");
    inShape_ = X.shape();
    outShape_.resize(static_cast<size_t>(r));
    map_.resize(static_cast<size_t>(r));
    bool empty = false;
    for (size_t d = 0; d < static_cast<size_t>(r); ++d) {
      int64_t n = inShape_[d], pb = pads[d], pe = pads[d + static_cast<size_t>(r)];
      if (__builtin_add_overflow(n, pb, &outShape_[d]) || __builtin_add_overflow(outShape_[d], pe, &outShape_[d]))
        return Status::badInput("Pad's pads on axis " + std::to_string(d) + " overflow the axis length");
      if (outShape_[d] < 0)
        return Status::badInput("Pad crops axis " + std::to_string(d) + " of " + shapeToString(inShape_) + " below zero");
      if (n == 0 && outShape_[d] > 0 && mode_ != PadMode::Constant)
        return Status::badInput("Pad cannot reflect or extend the empty axis " + std::to_string(d));
      empty |= outShape_[d] == 0;
    }
    // The output's size is checked before the index maps are built: a fuzzer's
    // model padded one axis to 257 million, and its map took 2 GB before the
    // 65 GB output was refused. An empty output needs no maps at all.
    auto numel = checkOutputSize(outShape_, X.dtype(), "Pad output");
    if (!numel) return numel.status();
    for (size_t d = 0; d < static_cast<size_t>(r); ++d) {
      const int64_t n = inShape_[d], pb = pads[d];
      std::vector<int64_t>& m = map_[d];
      sizeScratch(m, empty ? 0 : static_cast<size_t>(outShape_[d]));
      for (int64_t o = 0; o < static_cast<int64_t>(m.size()); ++o) {
        // 128 bits: a begin pad near INT64_MIN with an end pad that makes up for it is a legal axis.
        const __int128 w = static_cast<__int128>(o) - pb;
        int64_t i = static_cast<int64_t>(w);
        if (w < 0 || w >= n) {
          if (mode_ == PadMode::Constant) i = -1;
          else if (mode_ == PadMode::Edge)
            i = w < 0 ? 0 : n - 1;
          else if (n == 1) i = 0;
          else {
            // Mirror without repeating the border element; period 2(n-1).
            const __int128 period = 2 * static_cast<__int128>(n - 1);
            i = static_cast<int64_t>(((w % period) + period) % period);
            if (i >= n) i = static_cast<int64_t>(period - i);
          }
        }
        m[static_cast<size_t>(o)] = i;
      }
    }
    return Status::ok();
  }

  PadMode mode_;
  std::vector<int64_t> attrPads_;
  float attrValue_;
  bool fromInputs_;
  Shape inShape_, outShape_;
  std::vector<std::vector<int64_t>> map_;  // per axis: output index -> input index (-1: fill value)
  Tensor fillValue_;  // cached: rebuilt only when the value or type changes
  double fillDouble_ = 0;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createPad(const Node& node, int opset) {
  std::string m = node.attrString("mode", "constant");
  PadMode mode;
  if (m == "constant") mode = PadMode::Constant;
  else if (m == "reflect") mode = PadMode::Reflect;
  else if (m == "edge") mode = PadMode::Edge;
  else return Status::unsupported("Pad attribute 'mode' value '" + m + "' is not supported (constant, reflect, edge)");
  if (opset >= 11) return make<Pad>(mode, std::vector<int64_t>{}, 0.f, true);
  const char* key = opset < 2 ? "paddings" : "pads";
  if (!node.hasAttr(key)) return Status::badInput(std::string("Pad needs the attribute '") + key + "'");
  return make<Pad>(mode, node.attrInts(key), node.attrFloat("value", 0.f), false);
}

}  // namespace topiary::ops
