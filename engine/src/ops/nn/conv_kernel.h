// Conv's kernel, private to ops/nn: the class createConv (nn_ops.h) builds.
// Its forward, backward and tuning are in conv.cpp, the 2-D depthwise paths
// in conv_depthwise2d.cpp; short helpers are inline here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernels/activation.h"
#include "kernels/co_vector_conv.h"
#include "kernels/depthwise_conv.h"
#include "kernels/depthwise_sparse.h"
#include "kernels/direct_conv.h"
#include "kernels/kernel_choice.h"
#include "kernels/nm_conv.h"
#include "kernels/nm_kernel_direct.h"
#include "kernels/pointwise_sparse.h"
#include "kernels/sparse_matrix.h"
#include "kernels/winograd43_conv.h"
#include "kernels/winograd43_nm.h"
#include "kernels/winograd_conv.h"
#include "ops/common.h"
#include "ops/nn/conv_common.h"
#include "ops/nn/window.h"
#include "topiary/kernel.h"
#include "topiary/kernel_tune_cache.h"

namespace topiary::ops {

class ConvKernel final : public Kernel, public kernels::KernelChoice {
 public:
  // frozen: the weights never change (inference optimiser), so sparse forms
  // may be built once; forced ("dense", "csr", "2:4"; tests) skips the timing.
  ConvKernel(WindowAttrs attrs, int64_t group, kernels::Activation act, bool frozen, std::string forced)
      : attrs_(std::move(attrs)),
        group_(group),
        act_(act),
        pathAct_(act),
        frozen_(frozen),
        forced_(std::move(forced)) {}

  Status forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out, const RunContext& ctx) override;

  // Y = act(Y + R), one image per task while its output is still in cache.
  void addResidual(const Tensor& R, Tensor& Y, int threads) const {
    const int64_t per = Y.numel() / std::max<int64_t>(1, N_);
    parallelFor(N_, threads, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) act_.applyWithResidual(Y.f() + n * per, R.f() + n * per, per);
    });
  }

  std::string kernelChoice() const override { return choice_; }
  void setResidual(bool on) { residual_ = on; }

  bool hasBackward() const override { return true; }
  Status backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                  const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                  const RunContext& ctx) override;

  double flops(const std::vector<Shape>& in, const std::vector<Shape>& out) const override {
    if (in.size() < 2 || out.empty() || in[1].size() < 3 || out[0].size() < 3) return 0;
    double outElems = static_cast<double>(numelOf(out[0]));
    double perOut = 1;
    for (size_t i = 1; i < in[1].size(); ++i) perOut *= static_cast<double>(in[1][i]);  // (Cin/groups) * kernel
    double f = 2.0 * outElems * perOut;
    if (in.size() > 2 && !in[2].empty()) f += outElems;
    return f;
  }

 private:
  static const Tensor* bias(const std::vector<const Tensor*>& in) {
    return in.size() > 2 && in[2] && in[2]->numel() > 0 ? in[2] : nullptr;
  }
  bool depthwise() const { return Cg_ == 1 && group_ > 1; }
  bool pointwise() const { return isPointwise(win_); }
  // Images are split over workers when the batch allows; a single image
  // instead lets im2col and Eigen's GEMM use the threads.
  int workers(const RunContext& ctx) const {
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(ctx.threads, N_)));
  }

  enum class Mode {
    Dense,
    Csr,
    Nm,
    Direct,
    SparseDirect,
    Winograd,
    CoVector,
    Winograd43,
    NmDirect,
    Winograd43Nm,
    NmKernelDirect,
    SparsePointwise
  };
  static bool winograd(Mode m) { return m == Mode::Winograd || m == Mode::Winograd43 || m == Mode::Winograd43Nm; }
  // The kernels on DirectConvPlan's layout (directPath()).
  static bool direct(Mode m) {
    return m == Mode::Direct || m == Mode::SparseDirect || m == Mode::NmDirect || m == Mode::NmKernelDirect;
  }

  // 2-D convolutions without groups can skip im2col (kernels/direct_conv.h).
  bool directApplies() const { return group_ == 1 && twoD(); }
  bool twoD() const { return win_.in[0] == 1 && win_.k[0] == 1 && win_.padBegin[0] == 0; }

  // Whether a 2-D kernel plan (direct, depthwise) was made for this window's
  // spatial geometry (stride and dilation are fixed per node).
  template <class Plan>
  bool planMatches(const Plan& pl) const {
    return pl.H == win_.in[1] && pl.W == win_.in[2] && pl.Ho == win_.out[1] && pl.Wo == win_.out[2] &&
           pl.padT == win_.padBegin[1] && pl.padL == win_.padBegin[2] && pl.kH == win_.k[1] && pl.kW == win_.k[2];
  }

  // A fresh plan with this window's geometry (the caller sets channels and calls init()).
  template <class Plan>
  Plan planFor() const {
    return planForWindow<Plan>(win_);
  }

  // Sets the plan's geometry from the window; true when it changed.
  bool configure(kernels::DirectConvPlan& pl, int64_t cin, int64_t cout) const {
    if (pl.cin == cin && pl.cout == cout && planMatches(pl)) return false;
    pl = planFor<kernels::DirectConvPlan>();
    pl.cin = cin;
    pl.cout = cout;
    pl.init();
    return true;
  }

  // kernels/direct_conv.h per image; images split over workers.
  // SparseDirect: the CSR-with-input-offsets form; NmDirect: N:M rows (kernels/nm_conv.h); NmKernelDirect:
  // kernel-wise N:M (kernels/nm_kernel_direct.h); frozen weights only.
  // r: the fused residual [N, Cout, Ho, Wo] (may be null), added by every kernel here while its output is in cache.
  void directPath(const float* x, const float* w, const float* b, float* y, int threads, Mode mode = Mode::Direct,
                  const float* r = nullptr);

  bool winogradApplies() const {
    return directApplies() &&
           kernels::WinogradPlan::applies(win_.k[1], win_.k[2], win_.s[1], win_.s[2], win_.d[1], win_.d[2]);
  }

  // kernels/winograd_conv.h or winograd43_conv.h through ops/nn/conv_winograd.h
  // (frozen weights: transformed once per geometry); images split over workers.
  void winogradPath(Mode m, const float* x, const float* w, const float* b, float* y, int threads,
                    const float* r = nullptr);

  // A co-vector plan for `cout` outputs whose weights start at w (frozen:
  // packed again only when the geometry changes).
  void coVectorPlan(kernels::CoVectorConvPlan& pl, int64_t cout, const float* w);
  // kernels/co_vector_conv.h per image (frozen weights: packed once per
  // geometry); images split over workers.
  void coVectorPath(const float* x, const float* w, const float* b, float* y, int threads, const float* r = nullptr);

  // Depthwise 2-D with one output per channel: the channel-interleaved kernel
  // (kernels/depthwise_conv.h), the direct kernel per plane or, with at most
  // kMaxSparseDensity of the weights nonzero, the sparse one that runs only
  // each channel's kept taps (kernels/depthwise_sparse.h), whichever was
  // fastest on the first batch (frozen weights; "direct" forces the
  // interleaved one, "dense" the per-plane one and "csr" the sparse one).
  // Unfrozen weights (training) and several outputs per channel take the
  // per-plane kernel.
  enum class DwKernel { Plane, Interleaved, Sparse };
  void depthwise2d(const float* x, const float* w, const float* b, float* y, int threads);
  void depthwiseWith(DwKernel k, const float* x, const float* w, const float* b, float* y, int threads);
  void depthwiseSparse(const float* x, const float* w, const float* b, float* y, int threads);
  void depthwiseInterleaved(const float* x, const float* w, const float* b, float* y, int threads);
  // The direct kernel per channel (one input, `mult` outputs). Weights are
  // repacked on every call unless frozen (it is a small copy).
  void depthwisePlanes(const float* x, const float* w, const float* b, float* y, int threads);

  // fn(t, n, c0, c1) over every image n and channels [c0, c1) of C: images
  // over the threads, or, with fewer images than threads, each image's
  // channels split among them (the sparse depthwise and pointwise kernels);
  // t is the worker's slot, below workers(C, threads).
  int workers(int64_t C, int threads) const {
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, N_ * C)));
  }
  template <class F>
  void imagesOrChannels(int64_t C, int threads, F&& fn) const {
    const int T = workers(C, threads);
    parallelFor(T, T, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        if (N_ >= T) {
          for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n) fn(t, n, 0, C);
        } else {
          for (int64_t n = 0; n < N_; ++n) fn(t, n, C * t / T, C * (t + 1) / T);
        }
      }
    });
  }

  // 1x1 stride-1 layers with sparse frozen weights (kernels/pointwise_sparse.h).
  void sparsePointwisePath(const float* x, const float* w, const float* b, float* y, int threads,
                           const float* r = nullptr);

  // im2col (unless 1x1) + one product per group and image, then bias and
  // activation on each output row while it is in cache. Images are split
  // over workers when the batch allows; a single image instead lets im2col,
  // Eigen's GEMM or the sparse rows use the threads.
  void gemmPath(const float* x, const float* w, const float* b, float* y, int threads, Mode mode);

  // Frozen weights (inference optimiser): build the sparse forms once, then
  // for each batch size time every applicable kernel on the real input and
  // keep the fastest. Dense wins unless the weights are sparse enough.
  void tune(const float* x, const float* w, const float* b, float* y, int threads, KernelTuneCache* cache);

  Status prepare(const std::vector<const Tensor*>& in) {
    ConvDims d;
    TOPIARY_RETURN_IF_ERROR(resolveConv(in, attrs_, group_, d, win_));
    N_ = d.N, Cin_ = d.Cin, Cout_ = d.Cout, Cg_ = d.Cg;
    return Status::ok();
  }

  WindowAttrs attrs_;
  int64_t group_;
  kernels::Activation act_;  // fused by the inference optimiser; none otherwise
  // What the kernel paths apply: act_, or nothing when a residual is added
  // first (the activation then follows the addition).
  kernels::Activation pathAct_;
  bool residual_ = false;  // topiary.residual: Y = act(conv(X) + B + in[3])
  // Frozen weights: sparse forms (per group) and the kernel picked per batch size.
  static constexpr double kMaxSparseDensity = 0.75;
  bool frozen_ = false, sparseBuilt_ = false, hasNm_ = false, hasNmDirect_ = false, hasWino43Nm_ = false;
  bool hasNmKernelDirect_ = false;
  std::string forced_;
  double density_ = 1;
  std::vector<kernels::CsrMatrix> csr_;
  std::vector<kernels::NmMatrix> nm_;
  Mode mode_ = Mode::Dense;
  int64_t tunedBatch_ = -1;  // tuneKey() of the last tuning
  // Kernels are re-timed when a batch of one follows batches or back.
  int64_t tuneKey() const { return N_ > 1 ? 2 : 1; }
  kernels::CsrMatrix directCsr_;
  kernels::NmConvPlan nmConv_;
  kernels::NmKernelDirectPlan nmKernel_;
  std::string choice_ = "dense";
  kernels::DirectConvPlan direct_, dw_;
  kernels::DepthwisePlan dwi_;
  kernels::WinogradPlan wino_;
  kernels::Winograd43Plan wino43_;
  kernels::Winograd43NmPlan wino43nm_;
  kernels::CoVectorConvPlan coVec_;
  kernels::CoVectorConvPlan coVecHalves_[2];  // one image on two threads by output-channel halves (coVectorPath)
  DwKernel dwKernel_ = DwKernel::Plane;
  kernels::DepthwiseSparsePlan dws_;
  kernels::PointwiseSparsePlan pws_;
  std::vector<std::vector<float>> dwPacked_;
  std::vector<float> directScratch_;
  // Resolved per call from the input shapes.
  Window win_;
  Shape yShape_;  // the output shape, reused between runs
  int64_t N_ = 0, Cin_ = 0, Cout_ = 0, Cg_ = 0;
  int rawThreads_ = 1;  // the run's threads (threadsFor() gives small layers one)
  // Scratch kept between runs: one im2col matrix per worker, per-worker dW partial sums.
  std::vector<float> col_, dwPart_;
};

}  // namespace topiary::ops
