// Conv with run-time channel skipping (see conv_dynamic.h). Per image:
// find the active input channels (max |x| > T; NaN counts as active), then
//   - none silent in the whole batch: the ordinary Conv kernel (tuned dense,
//     direct, Winograd, ... as the optimiser picked) runs the batch, so a
//     batch with nothing to skip pays only the scan;
//   - else, per image, the compacted problem when it is cheaper than the
//     ordinary kernel: below breakEven_ * Cin active channels, a ratio timed
//     once per geometry on the first images (the ordinary kernel is often
//     Winograd or direct, 2x faster per FLOP than im2col + GEMM, so a few
//     silent channels do not pay). The other images run the ordinary kernel
//     on a copy whose silent channels are zeroed (same meaning for T > 0).
//   - compacted, group 1: im2col of the active channels only and the
//     weights' matching rows (kept transposed) gathered into
//     [active * taps, Cout], one Eigen GEMM;
//   - compacted, depthwise 2-D: the direct kernel on each active channel's
//     plane; a silent channel's outputs are just act(bias).
// Bias, fused activation and fused residual are applied as Conv does.
// skippedFlops() counts only what the compacted path really left out.
#include "ops/nn/conv_dynamic.h"

#include <Eigen/Core>
#include <cmath>
#include <cstring>

#include "kernels/activation.h"
#include "kernels/depthwise_conv.h"
#include "kernels/direct_conv.h"
#include "kernels/kernel_choice.h"
#include "kernels/parallel_product.h"
#include "kernels/threading.h"
#include "ops/common.h"
#include "ops/nn/conv_common.h"
#include "ops/nn/im2col.h"
#include "ops/nn/nn_ops.h"
#include "ops/nn/window.h"
#include "ops/scratch.h"

namespace topiary::ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;
using CColMap = Eigen::Map<const Eigen::MatrixXf>;

class DynamicSkipConv final : public Kernel, public kernels::KernelChoice, public SkipCounter {
 public:
  DynamicSkipConv(WindowAttrs attrs, int64_t group, kernels::Activation act, bool residual, float threshold,
                  std::unique_ptr<Kernel> dense, std::unique_ptr<Kernel> dense1, std::string forcedPath)
      : attrs_(std::move(attrs)),
        group_(group),
        act_(act),
        residual_(residual),
        threshold_(threshold),
        dense_(std::move(dense)),
        dense1_(std::move(dense1)),
        forcedPath_(std::move(forcedPath)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                 const RunContext& ctx) override {
    TOPIARY_RETURN_IF_ERROR(prepare(in));
    const Tensor& X = *in[0];
    const int64_t inN = win_.inSize();
    // Active channels of every image, [n * Cin + i] for i < activeCount_[n].
    active_.resize(static_cast<size_t>(N_ * Cin_));
    activeCount_.assign(static_cast<size_t>(N_), 0);
    bool anySilent = false;
    for (int64_t n = 0; n < N_; ++n) {
      int64_t a = 0;
      for (int64_t c = 0; c < Cin_; ++c)
        if (!silent(X.f() + (n * Cin_ + c) * inN, inN)) active_[static_cast<size_t>(n * Cin_ + a++)] = c;
      activeCount_[static_cast<size_t>(n)] = a;
      anySilent |= a < Cin_;
    }
    skipped_.assign(static_cast<size_t>(N_), 0.0);
    silent_.assign(static_cast<size_t>(N_), 0.0);
    if (!anySilent || !eligible()) {
      choice_ = "skip:dense";
      return dense_->forward(in, out, ctx);
    }
    const Tensor& W = *in[1];
    const Tensor* B = in.size() > 2 && in[2] && in[2]->numel() > 0 ? in[2] : nullptr;
    const Tensor* R = residual_ && in.size() > 3 ? in[3] : nullptr;
    Tensor& Y = *out[0];
    Y.resize(DType::Float, win_.outShape({N_, Cout_}));
    if (residual_ && (!R || R->dtype() != DType::Float || R->shape() != Y.shape()))
      return Status::unsupported("fused residual of shape " + (R ? shapeToString(R->shape()) : std::string("?")) +
                                 " does not match the Conv output " + shapeToString(Y.shape()));
    const int64_t P = win_.outSize(), taps = win_.kSize(), coutG = Cout_ / group_;
    const double work = 2.0 * static_cast<double>(N_ * Cout_ * Cg_ * taps * P);
    const int threads = kernels::threadsFor(work, ctx.threads);
    kernels::ThreadsScope scope(threads);
    if (scratch_.size() < static_cast<size_t>(threads)) scratch_.resize(static_cast<size_t>(threads));
    if (depthwise())
      packDepthwise(W.f(), B ? B->f() : nullptr);
    else
      transposeWeights(W);
    if (tunedKey_ != geometryKey()) tune(in, Y, ctx);
    // Per image: the compacted problem when it is cheaper than the ordinary
    // kernel on the whole image (breakEven_, timed once), else the ordinary
    // kernel on a copy whose silent channels are zero (so a threshold > 0
    // means the same whichever path runs).
    compact_.clear();
    staged_.clear();
    compacted_.assign(static_cast<size_t>(N_), 0);
    for (int64_t n = 0; n < N_; ++n) {
      const int64_t a = activeCount_[static_cast<size_t>(n)];
      const bool c = a < Cin_ && (a == 0 || static_cast<double>(a) <= breakEven_ * static_cast<double>(Cin_));
      (c ? compact_ : staged_).push_back(n);
      silent_[static_cast<size_t>(n)] = 2.0 * static_cast<double>(coutG) * static_cast<double>(taps) *
                                        static_cast<double>(P) * static_cast<double>(Cin_ - a);
      if (c) skipped_[static_cast<size_t>(n)] = silent_[static_cast<size_t>(n)];
      compacted_[static_cast<size_t>(n)] = c;
    }
    if (compact_.empty() && threshold_ == 0) {  // exact zeros: the ordinary kernel on the batch as it is
      choice_ = "skip:dense";
      return dense_->forward(in, out, ctx);
    }
    choice_ = depthwise() ? "skip:dw-plane" : "skip:gemm";
    // Depthwise with one output per channel: the images not compacted run the
    // interleaved kernel on the input as it is, then their silent channels'
    // outputs are reset to act(bias) (what zeroed inputs give), no copies.
    const bool inPlace = interleaved();
    if (inPlace) compact_.insert(compact_.end(), staged_.begin(), staged_.end());
    if (!staged_.empty() && !inPlace) TOPIARY_RETURN_IF_ERROR(runDense(in, Y, ctx));
    const int64_t M = static_cast<int64_t>(compact_.size());
    const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, M)));
    parallelFor(T, T, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t i = M * t / T; i < M * (t + 1) / T; ++i) {
          const int64_t n = compact_[static_cast<size_t>(i)];
          if (inPlace && !compacted_[static_cast<size_t>(n)])
            interleavedImage(X.f() + n * Cin_ * inN, Y.f() + n * Cout_ * P, B ? B->f() : nullptr,
                             R ? R->f() + n * Cout_ * P : nullptr, active_.data() + n * Cin_,
                             activeCount_[static_cast<size_t>(n)], scratch_[static_cast<size_t>(t)]);
          else
            compactImage(X.f() + n * Cin_ * inN, Y.f() + n * Cout_ * P, B ? B->f() : nullptr,
                         R ? R->f() + n * Cout_ * P : nullptr, active_.data() + n * Cin_,
                         activeCount_[static_cast<size_t>(n)], scratch_[static_cast<size_t>(t)], T == 1 ? threads : 1);
        }
    });
    return Status::ok();
  }

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    return dense_->flops(in, out);  // dense count; the skipped part is reported per image
  }
  std::string kernelChoice() const override {
    auto* k = dynamic_cast<const kernels::KernelChoice*>(dense_.get());
    return choice_ == "skip:dense" && k ? "skip:" + k->kernelChoice() : choice_;
  }
  const std::vector<double>& skippedFlops() const override { return skipped_; }
  const std::vector<double>& silentFlops() const override { return silent_; }

 private:
  struct Scratch {
    std::vector<float> col, w, direct;
  };

  // max |x| <= T over the channel, stopping at the first larger value (or NaN).
  bool silent(const float* p, int64_t n) const {
    for (int64_t j = 0; j < n; ++j)
      if (!(std::fabs(p[j]) <= threshold_)) return false;
    return true;
  }
  bool depthwise() const { return Cg_ == 1 && group_ > 1 && group_ == Cin_; }
  bool twoD() const { return win_.in[0] == 1 && win_.k[0] == 1 && win_.padBegin[0] == 0; }
  // The optimiser only marks group-1 and depthwise Convs; 1-D/3-D depthwise
  // has no per-plane kernel here and stays dense.
  bool eligible() const { return Cin_ > 0 && Cout_ > 0 && (group_ == 1 || (depthwise() && twoD())); }
  bool pointwise() const {
    for (int i = 0; i < 3; ++i)
      if (win_.k[i] != 1 || win_.s[i] != 1 || win_.padBegin[i] != 0 || win_.padEnd[i] != 0) return false;
    return true;
  }

  // y = bias (+ act unless a residual follows) on rows [r0, r1) already holding the product.
  void epilogue(float* y, const float* b, bool residual, int64_t r0, int64_t r1) const {
    const int64_t P = win_.outSize();
    const kernels::Activation none;
    const kernels::Activation& a = residual ? none : act_;
    if (!b && a.none()) return;
    for (int64_t c = r0; c < r1; ++c) a.applyWithBias(y + c * P, P, b ? b[c] : 0.f);
  }

  // Group 1: the GEMM over the active channels only.
  // gather: copy even when every channel is active (timing the compacted path).
  void gemmImage(const float* x, float* y, const float* b, bool residual, const int64_t* act, int64_t A, Scratch& s,
                 int threads, bool gather) const {
    const int64_t P = win_.outSize(), taps = win_.kSize(), inN = win_.inSize();
    if (A == 0) {
      std::memset(y, 0, static_cast<size_t>(Cout_ * P) * sizeof(float));
      return epilogue(y, b, residual, 0, Cout_);
    }
    const int64_t Kc = A * taps;
    const float* src = x;
    if (!pointwise() || A < Cin_ || gather) {
      if (s.col.size() < static_cast<size_t>(Kc * P)) sizeScratch(s.col, static_cast<size_t>(Cin_ * taps * P));
      for (int64_t i = 0; i < A; ++i) {
        const float* xc = x + act[i] * inN;
        float* dst = s.col.data() + i * taps * P;
        if (pointwise())
          std::memcpy(dst, xc, static_cast<size_t>(P) * sizeof(float));
        else
          im2col(xc, 1, win_, dst, 1);
      }
      src = s.col.data();
    }
    // Weights as [Cin * taps, Cout] (wT_): the active channels' rows are
    // contiguous runs, and the gathered block is the GEMM's column-major left side.
    const float* wc = wT_.data();
    if (A < Cin_ || gather) {
      if (s.w.size() < static_cast<size_t>(Cout_ * Kc)) s.w.resize(static_cast<size_t>(Cout_ * Cin_ * taps));
      for (int64_t i = 0; i < A; ++i)
        std::memcpy(s.w.data() + i * taps * Cout_, wT_.data() + act[i] * taps * Cout_,
                    static_cast<size_t>(taps * Cout_) * sizeof(float));
      wc = s.w.data();
    }
    kernels::productRows(MMap(y, Cout_, P), CColMap(wc, Cout_, Kc), CMap(src, Kc, P), threads);
    epilogue(y, b, residual, 0, Cout_);
  }

  // Depthwise 2-D: the direct kernel per active channel (the plan Conv's
  // per-plane path uses), act(bias) for a silent one.
  void depthwiseImage(const float* x, float* y, const float* b, bool residual, const int64_t* act, int64_t A,
                      Scratch& s) const {
    const int64_t P = win_.outSize(), inN = win_.inSize(), mult = Cout_ / group_;
    const kernels::Activation none;
    const kernels::Activation* a = residual ? &none : &act_;
    if (s.direct.size() < static_cast<size_t>(dwPlan_.scratchFloats()))
      s.direct.resize(static_cast<size_t>(dwPlan_.scratchFloats()));
    int64_t next = 0;  // index into the active list
    for (int64_t c = 0; c < Cin_; ++c) {
      float* yc = y + c * mult * P;
      if (next < A && act[next] == c) {
        ++next;
        dwPlan_.runPacked(dwPacked_[static_cast<size_t>(c)].data(), x + c * inN, yc, s.direct.data(),
                          b ? b + c * mult : nullptr, a);
        continue;
      }
      std::memset(yc, 0, static_cast<size_t>(mult * P) * sizeof(float));
      epilogue(yc, b ? b + c * mult : nullptr, residual, 0, mult);
    }
  }

  bool interleaved() const { return depthwise() && twoD() && Cout_ == group_; }

  // Depthwise, one image, every channel through the interleaved kernel; the
  // silent ones (act[] lists the active) then get act(bias) as if zero.
  void interleavedImage(const float* x, float* y, const float* b, const float* r, const int64_t* act, int64_t A,
                        Scratch& s) const {
    const int64_t P = win_.outSize();
    const kernels::Activation none;
    if (s.direct.size() < static_cast<size_t>(dwi_.scratchFloats()))
      s.direct.resize(static_cast<size_t>(dwi_.scratchFloats()));
    dwi_.run(x, y, s.direct.data(), r ? &none : &act_);
    if (threshold_ > 0) {
      int64_t next = 0;
      for (int64_t c = 0; c < Cin_; ++c) {
        if (next < A && act[next] == c) {
          ++next;
          continue;
        }
        std::memset(y + c * P, 0, static_cast<size_t>(P) * sizeof(float));
        epilogue(y + c * P, b ? b + c : nullptr, r != nullptr, 0, 1);
      }
    }
    if (r) act_.applyWithResidual(y, r, Cout_ * P);
  }

  // One image on the compacted problem; r: its fused residual or null.
  void compactImage(const float* x, float* y, const float* b, const float* r, const int64_t* act, int64_t A, Scratch& s,
                    int threads, bool gather = false) const {
    if (depthwise())
      depthwiseImage(x, y, b, r != nullptr, act, A, s);
    else
      gemmImage(x, y, b, r != nullptr, act, A, s, threads, gather);
    if (r) act_.applyWithResidual(y, r, Cout_ * win_.outSize());
  }

  // The images in staged_ through the ordinary kernel, on copies whose
  // silent channels are zeroed, then copied into Y.
  Status runDense(const std::vector<const Tensor*>& in, Tensor& Y, const RunContext& ctx) {
    const Tensor& X = *in[0];
    const int64_t D = static_cast<int64_t>(staged_.size()), inN = win_.inSize(), outN = Cout_ * win_.outSize();
    Shape xs = X.shape();
    xs[0] = D;
    stagedX_.resize(DType::Float, xs);
    const bool residual = residual_ && in.size() > 3 && in[3];
    // The whole batch (nothing compacted): residual read and output written in place.
    const bool whole = D == N_;
    if (residual && !whole) stagedR_.resize(DType::Float, win_.outShape({D, Cout_}));
    for (int64_t i = 0; i < D; ++i) {
      const int64_t n = staged_[static_cast<size_t>(i)];
      float* dst = stagedX_.f() + i * Cin_ * inN;
      std::memcpy(dst, X.f() + n * Cin_ * inN, static_cast<size_t>(Cin_ * inN) * sizeof(float));
      if (threshold_ > 0) {  // zero the channels between the active ones
        const int64_t* act = active_.data() + n * Cin_;
        int64_t next = 0;
        for (int64_t c = 0; c < Cin_; ++c) {
          if (next < activeCount_[static_cast<size_t>(n)] && act[next] == c) {
            ++next;
            continue;
          }
          std::memset(dst + c * inN, 0, static_cast<size_t>(inN) * sizeof(float));
        }
      }
      if (residual && !whole)
        std::memcpy(stagedR_.f() + i * outN, in[3]->f() + n * outN, static_cast<size_t>(outN) * sizeof(float));
    }
    std::vector<const Tensor*> din = in;
    din[0] = &stagedX_;
    if (residual && !whole) din[3] = &stagedR_;
    std::vector<Tensor*> dout{whole ? &Y : &stagedY_};
    // The ordinary Conv tunes its kernel per batch-size class (one image or
    // more): a second instance for single images keeps both tunings.
    TOPIARY_RETURN_IF_ERROR((D == 1 && N_ > 1 ? dense1_ : dense_)->forward(din, dout, ctx));
    if (whole) return Status::ok();
    for (int64_t i = 0; i < D; ++i)
      std::memcpy(Y.f() + staged_[static_cast<size_t>(i)] * outN, stagedY_.f() + i * outN,
                  static_cast<size_t>(outN) * sizeof(float));
    return Status::ok();
  }

  std::vector<int64_t> geometryKey() const {
    return {Cin_, Cout_, win_.in[0], win_.in[1], win_.in[2], win_.out[0], win_.out[1], win_.out[2]};
  }

  // Times, on the first image, the ordinary kernel (staged, one image) and the
  // compacted path with every channel active: compacting A of Cin channels
  // costs about A/Cin of the latter, so it wins below the ratio of the two.
  void tune(const std::vector<const Tensor*>& in, Tensor& Y, const RunContext& ctx) {
    tunedKey_ = geometryKey();
    if (forcedPath_ == "compact" || forcedPath_ == "dense") {
      breakEven_ = forcedPath_ == "compact" ? 2.0 : -1.0;
      return;
    }
    allChannels_.resize(static_cast<size_t>(Cin_));
    for (int64_t c = 0; c < Cin_; ++c) allChannels_[static_cast<size_t>(c)] = c;
    const Tensor* B = in.size() > 2 && in[2] && in[2]->numel() > 0 ? in[2] : nullptr;
    const Tensor* R = residual_ && in.size() > 3 ? in[3] : nullptr;
    // A few images, as the ordinary kernel runs faster per image on several.
    const int64_t D = std::min<int64_t>(N_, 4), inN = win_.inSize(), outN = Cout_ * win_.outSize();
    const double compact = kernels::fastestOf(3, [&] {
      for (int64_t n = 0; n < D; ++n)
        compactImage(in[0]->f() + n * Cin_ * inN, Y.f() + n * outN, B ? B->f() : nullptr,
                     R ? R->f() + n * outN : nullptr, allChannels_.data(), Cin_, scratch_[0], 1, true);
    });
    staged_.resize(static_cast<size_t>(D));
    for (int64_t n = 0; n < D; ++n) staged_[static_cast<size_t>(n)] = n;
    Status st;
    const double dense = kernels::fastestOf(3, [&] {
      if (!interleaved()) {
        st = runDense(in, Y, ctx);
        return;
      }
      for (int64_t n = 0; n < D; ++n)
        interleavedImage(in[0]->f() + n * Cin_ * inN, Y.f() + n * outN, B ? B->f() : nullptr,
                         R ? R->f() + n * outN : nullptr, allChannels_.data(), Cin_, scratch_[0]);
    });
    breakEven_ = st.isOk() && compact > 0 ? dense / compact : 1.0;
  }

  // Frozen weights: [Cout, Cin * taps] transposed once.
  void transposeWeights(const Tensor& W) {
    if (wTSource_ == W.f() && wT_.size() == static_cast<size_t>(W.numel())) return;
    wTSource_ = W.f();
    const int64_t K = W.numel() / Cout_;
    wT_.resize(static_cast<size_t>(W.numel()));
    for (int64_t o = 0; o < Cout_; ++o)
      for (int64_t k = 0; k < K; ++k) wT_[static_cast<size_t>(k * Cout_ + o)] = W.f()[o * K + k];
  }

  // Frozen weights: each channel's filters packed once per geometry.
  void packDepthwise(const float* w, const float* b) {
    kernels::DirectConvPlan pl = planForWindow<kernels::DirectConvPlan>(win_);
    pl.cin = 1;
    pl.cout = Cout_ / group_;
    const bool same = dwPlan_.cout == pl.cout && dwPlan_.H == pl.H && dwPlan_.W == pl.W && dwPlan_.Ho == pl.Ho &&
                      dwPlan_.Wo == pl.Wo && dwPlan_.kH == pl.kH && dwPlan_.kW == pl.kW && dwPlan_.padT == pl.padT &&
                      dwPlan_.padL == pl.padL && dwPacked_.size() == static_cast<size_t>(group_);
    if (same) return;
    if (Cout_ == group_) {  // the interleaved kernel, for images with little to skip
      kernels::DepthwisePlan d = planForWindow<kernels::DepthwisePlan>(win_);
      d.C = Cin_;
      d.init();
      d.pack(w, b);
      dwi_ = std::move(d);
    }
    pl.init();
    dwPlan_ = std::move(pl);
    dwPacked_.assign(static_cast<size_t>(group_), {});
    const int64_t per = dwPlan_.cout * win_.kSize();
    for (int64_t c = 0; c < group_; ++c) dwPlan_.packInto(w + c * per, dwPacked_[static_cast<size_t>(c)]);
  }

  Status prepare(const std::vector<const Tensor*>& in) {
    ConvDims d;
    TOPIARY_RETURN_IF_ERROR(resolveConv(in, attrs_, group_, d, win_));
    N_ = d.N, Cin_ = d.Cin, Cout_ = d.Cout, Cg_ = d.Cg;
    return Status::ok();
  }

  WindowAttrs attrs_;
  int64_t group_;
  kernels::Activation act_;
  bool residual_;
  float threshold_;
  std::unique_ptr<Kernel> dense_;   // the ordinary Conv: batches with nothing to skip, images with little
  std::unique_ptr<Kernel> dense1_;  // the same for one staged image of a larger batch
  std::string forcedPath_;          // topiary.dynamic_path: "compact" or "dense" (tests), else timed
  std::string choice_ = "skip";
  Window win_;
  int64_t N_ = 0, Cin_ = 0, Cout_ = 0, Cg_ = 0;
  std::vector<int64_t> active_, activeCount_;
  std::vector<double> skipped_, silent_;
  std::vector<int64_t> compact_, staged_;  // images of this batch on each path
  std::vector<char> compacted_;            // per image of this batch
  // Compacting wins when active <= breakEven_ * Cin (timed per geometry; a
  // forced path sets it to 2 (always) or -1 (never)).
  double breakEven_ = 1;
  std::vector<int64_t> tunedKey_, allChannels_;
  Tensor stagedX_, stagedR_, stagedY_;
  std::vector<Scratch> scratch_;
  kernels::DirectConvPlan dwPlan_;
  kernels::DepthwisePlan dwi_;
  std::vector<std::vector<float>> dwPacked_;
  std::vector<float> wT_;
  const float* wTSource_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Kernel>> createConvWithSkipping(const Node& node, int opset) {
  auto dense = createConv(node, opset);
  if (!dense) return dense.status();
  const float t = node.attrFloat("topiary.dynamic_skip", -1.f);
  if (!(t >= 0)) return dense;  // the ordinary Conv (also for a NaN threshold)
  auto dense1 = createConv(node, opset);
  if (!dense1) return dense1.status();
  WindowAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseWindowAttrs(node, "Conv", false, a));
  kernels::Activation act;
  TOPIARY_RETURN_IF_ERROR(kernels::Activation::fromNode(node, act));
  return std::unique_ptr<Kernel>(new DynamicSkipConv(
      std::move(a), node.attrInt("group", 1), act, node.attrInt("topiary.residual", 0) != 0, t,
      std::move(dense.value()), std::move(dense1.value()), node.attrString("topiary.dynamic_path", "")));
}

}  // namespace topiary::ops
