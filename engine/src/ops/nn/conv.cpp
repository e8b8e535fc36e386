// Conv: 1-, 2- and 3-D convolution with groups, strides, dilations, pads and
// auto_pad. Forward paths: depthwise (one input channel per group) on the
// 2-D kernels (conv_depthwise2d.cpp) or plain loops (conv_depthwise.cpp); 1x1
// stride-1 unpadded as a plain GEMM on the input; everything else as im2col
// + GEMM per group. With frozen weights (the inference optimiser) a Conv also
// has the direct, Winograd and co-vector kernels (kernels/) and sparse ones
// (CSR or 2:4 on im2col, CSR over input offsets), timed on its first batch to
// keep the fastest, and may carry a fused activation and residual. Backward
// gives dX, dW and dB on the unfused kernel.
#include <Eigen/Core>
#include <algorithm>
#include <cstdio>

#include "kernels/activation.h"
#include "kernels/co_vector_conv.h"
#include "kernels/direct_conv.h"
#include "kernels/kernel_choice.h"
#include "kernels/nm_conv.h"
#include "kernels/nm_kernel_direct.h"
#include "kernels/parallel_product.h"
#include "kernels/pointwise_sparse.h"
#include "kernels/shared_work.h"
#include "kernels/sparse_matrix.h"
#include "kernels/threading.h"
#include "kernels/tune_key.h"
#include "kernels/winograd43_conv.h"
#include "kernels/winograd43_nm.h"
#include "kernels/winograd_conv.h"
#include "ops/common.h"
#include "ops/nn/conv_channels_last.h"
#include "ops/nn/conv_common.h"
#include "ops/nn/conv_depthwise.h"
#include "ops/nn/conv_kernel.h"
#include "ops/nn/conv_winograd.h"
#include "ops/nn/im2col.h"
#include "ops/nn/nn_ops.h"
#include "ops/nn/window.h"
#include "ops/scratch.h"
#include "topiary/kernel_tune_cache.h"

namespace topiary::ops {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;

}  // namespace

Status ConvKernel::forward(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out,
                           const RunContext& ctx) {
  TOPIARY_RETURN_IF_ERROR(prepare(in));
  rawThreads_ = ctx.threads;
  const Tensor& X = *in[0];
  const Tensor& W = *in[1];
  const Tensor* B = bias(in);
  Tensor& Y = *out[0];
  Y.resize(DType::Float, win_.outShapeInto(N_, Cout_, yShape_));
  const Tensor* R = residual_ && in.size() > 3 ? in[3] : nullptr;
  if (residual_ && (!R || R->dtype() != DType::Float || R->shape() != Y.shape()))
    return Status::unsupported("fused residual of shape " + (R ? shapeToString(R->shape()) : std::string("?")) +
                               " does not match the Conv output " + shapeToString(Y.shape()) +
                               " (run without optimizeForInference)");
  pathAct_ = R ? kernels::Activation{} : act_;
  const double work = 2.0 * static_cast<double>(N_ * Cout_ * Cg_ * win_.kSize() * win_.outSize());
  const int threads = kernels::threadsFor(work, ctx.threads);
  kernels::ThreadsScope scope(threads);
  if (depthwise()) {
    if (twoD())
      depthwise2d(X.f(), W.f(), B ? B->f() : nullptr, Y.f(), threads);
    else
      depthwiseForwardNd({win_, N_, Cin_, Cout_, group_}, X.f(), W.f(), B ? B->f() : nullptr, Y.f(), pathAct_, threads);
    if (R) addResidual(*R, Y, threads);
    return Status::ok();
  }
  if (frozen_ && tunedBatch_ != tuneKey()) tune(X.f(), W.f(), B ? B->f() : nullptr, Y.f(), threads, ctx.tuneCache);
  if (direct(mode_))  // the direct-layout kernels (dense, CSR, N:M) add the residual while in cache
    directPath(X.f(), W.f(), B ? B->f() : nullptr, Y.f(), threads, mode_, R ? R->f() : nullptr);
  else if (winograd(mode_))  // these two add the residual per plane while in cache
    winogradPath(mode_, X.f(), W.f(), B ? B->f() : nullptr, Y.f(), threads, R ? R->f() : nullptr);
  else if (mode_ == Mode::CoVector)
    coVectorPath(X.f(), W.f(), B ? B->f() : nullptr, Y.f(), threads, R ? R->f() : nullptr);
  else if (mode_ == Mode::SparsePointwise)  // adds the residual before the activation, in registers
    sparsePointwisePath(X.f(), W.f(), B ? B->f() : nullptr, Y.f(), threads, R ? R->f() : nullptr);
  else
    gemmPath(X.f(), W.f(), B ? B->f() : nullptr, Y.f(), threads, mode_);
  if (R && !direct(mode_) && !winograd(mode_) && mode_ != Mode::CoVector && mode_ != Mode::SparsePointwise)
    addResidual(*R, Y, threads);
  return Status::ok();
}

Status ConvKernel::backward(const std::vector<const Tensor*>& in, const std::vector<const Tensor*>&,
                            const std::vector<const Tensor*>& gradOut, const std::vector<Tensor*>& gradIn,
                            const RunContext& ctx) {
  if (gradOut.empty() || !gradOut[0]) return Status::ok();
  if (!act_.none() || residual_)
    return Status::unsupported("a Conv with a fused activation or residual (inference only) has no backward");
  TOPIARY_RETURN_IF_ERROR(prepare(in));
  const Tensor& X = *in[0];
  const Tensor& W = *in[1];
  const Tensor& GY = *gradOut[0];
  if (GY.shape() != win_.outShape({N_, Cout_}))
    return Status::badInput("Conv output gradient has shape " + shapeToString(GY.shape()) + ", expected " +
                            shapeToString(win_.outShape({N_, Cout_})));
  Tensor* GX = gradIn.size() > 0 ? gradIn[0] : nullptr;
  Tensor* GW = gradIn.size() > 1 ? gradIn[1] : nullptr;
  Tensor* GB = gradIn.size() > 2 && bias(in) ? gradIn[2] : nullptr;
  const int64_t P = win_.outSize();
  const float* gy = GY.f();
  if (GB) {
    GB->resize(DType::Float, {Cout_});
    float* gb = GB->f();
    parallelFor(Cout_, ctx.threads, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        double s = 0;
        for (int64_t n = 0; n < N_; ++n) s += CMap(gy + (n * Cout_ + c) * P, 1, P).sum();
        gb[c] = static_cast<float>(s);
      }
    });
  }
  if (GX) {
    GX->resize(DType::Float, X.shape());
    GX->setZero();
  }
  if (GW) GW->resize(DType::Float, W.shape());
  if (depthwise()) {
    depthwiseBackwardNd({win_, N_, Cin_, Cout_, group_}, X.f(), W.f(), gy, GX ? GX->f() : nullptr,
                        GW ? GW->f() : nullptr, ctx.threads);
    return Status::ok();
  }
  convBackwardIm2col({win_, N_, Cin_, Cout_, group_}, X.f(), W.f(), gy, GX ? GX->f() : nullptr, GW ? GW->f() : nullptr,
                     ctx.threads, workers(ctx), col_, dwPart_);
  return Status::ok();
}

void ConvKernel::directPath(const float* x, const float* w, const float* b, float* y, int threads, Mode mode,
                            const float* r) {
  kernels::DirectConvPlan& pl = direct_;
  if (configure(pl, Cin_, Cout_) || pl.packed.empty()) {  // frozen weights: packed once per geometry
    pl.pack(w);
    directCsr_ = kernels::CsrMatrix{};
  }
  if (mode == Mode::SparseDirect && directCsr_.rows == 0) directCsr_ = pl.sparseOffsets(w);
  if (mode == Mode::NmDirect && !nmConv_.builtFor(pl)) nmConv_.build(pl, w);
  if (mode == Mode::NmKernelDirect && !nmKernel_.builtFor(pl)) nmKernel_.build(pl, w);
  const int64_t P = win_.outSize(), inN = win_.inSize();
  const kernels::Activation* act = r ? &act_ : &pathAct_;  // with a residual, the activation comes after it
  const int64_t S = mode == Mode::NmDirect ? nmConv_.scratchFloats(pl) : pl.scratchFloats();
  const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, N_)));
  if (directScratch_.size() < static_cast<size_t>(T * S)) directScratch_.resize(static_cast<size_t>(T * S));
  // One image on two threads or more (as co-vector): the N:M kernels in
  // two pieces of output rows, each padding its input rows into its own
  // scratch. (Halves of the output channels instead left half of every
  // layer's input in the other core's cache: resnet8 lost its gain.)
  const bool nm =
      (mode == Mode::NmKernelDirect && nmKernel_.builtFor(pl)) || (mode == Mode::NmDirect && nmConv_.builtFor(pl));
  if (nm && N_ == 1 && rawThreads_ > 1 && pl.Ho >= 2 &&
      2.0 * Cout_ * Cin_ * win_.kSize() * P / 2 >= kernels::kSharedMinFlops) {  // 2:4: half the weights
    const size_t need = static_cast<size_t>(kernels::kSharedSlots * S);
    if (directScratch_.size() < need) directScratch_.resize(need);
    const int64_t half = pl.Ho / 2;
    return kernels::runShared(2, [&](int64_t i, int slot) {
      const int64_t oh0 = i == 0 ? 0 : half, oh1 = i == 0 ? half : pl.Ho;
      float* scratch = directScratch_.data() + slot * S;
      if (mode == Mode::NmDirect)
        nmConv_.runRows(pl, x, y, scratch, b, act, oh0, oh1, r);
      else
        nmKernel_.runRows(pl, x, y, scratch, b, act, oh0, oh1, r);
    });
  }
  parallelFor(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n) {
        const float* xn = x + n * Cin_ * inN;
        float* yn = y + n * Cout_ * P;
        float* scratch = directScratch_.data() + t * S;
        const float* rn = r ? r + n * Cout_ * P : nullptr;
        if (mode == Mode::NmDirect)
          nmConv_.run(pl, xn, yn, scratch, b, act, rn);
        else if (mode == Mode::NmKernelDirect)
          nmKernel_.run(pl, xn, yn, scratch, b, act, rn);
        else if (mode == Mode::SparseDirect)
          pl.runSparse(directCsr_, xn, yn, scratch, b, act, rn);
        else
          pl.run(xn, yn, scratch, b, act, rn);
      }
  });
}

void ConvKernel::winogradPath(Mode m, const float* x, const float* w, const float* b, float* y, int threads,
                              const float* r) {
  if (m == Mode::Winograd43Nm)  // kernel-wise 2:4 weights (kernels/winograd43_nm.h)
    return runWinograd(wino43nm_, planFor<kernels::Winograd43NmPlan>(), Cin_, Cout_, w, x, N_, y, b,
                       r ? &act_ : &pathAct_, r, directScratch_, threads, rawThreads_);  // batch 1: shared
  if (m == Mode::Winograd43)
    return runWinograd(wino43_, planFor<kernels::Winograd43Plan>(), Cin_, Cout_, w, x, N_, y, b, r ? &act_ : &pathAct_,
                       r, directScratch_, threads, rawThreads_);  // batch 1: shared
  runWinograd(wino_, planFor<kernels::WinogradPlan>(), Cin_, Cout_, w, x, N_, y, b, r ? &act_ : &pathAct_, r,
              directScratch_, threads);
}

void ConvKernel::coVectorPlan(kernels::CoVectorConvPlan& pl, int64_t cout, const float* w) {
  if (pl.cin == Cin_ && pl.cout == cout && planMatches(pl) && !pl.packed.empty()) return;
  pl = planFor<kernels::CoVectorConvPlan>();
  pl.cin = Cin_;
  pl.cout = cout;
  pl.init();
  pl.pack(w);
}

void ConvKernel::coVectorPath(const float* x, const float* w, const float* b, float* y, int threads, const float* r) {
  kernels::CoVectorConvPlan& pl = coVec_;
  coVectorPlan(pl, Cout_, w);
  const int64_t P = win_.outSize(), inN = win_.inSize(), S = pl.scratchFloats(), Ho = win_.out[1];
  const kernels::Activation* act = r ? &act_ : &pathAct_;
  // One image on two threads or more: its output rows in up to 4 pieces
  // shared with a helper (kernels/shared_work.h) from kSharedMinFlops of
  // work. When the helper gets no core, the caller pays ~8% (halo rows).
  const int64_t pieces = N_ == 1 && rawThreads_ > 1 && 2.0 * Cout_ * Cin_ * win_.kSize() * P >= kernels::kSharedMinFlops
                             ? std::min<int64_t>(Ho, 4)
                             : 1;
  const int T =
      pieces > 1 ? kernels::kSharedSlots : static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, N_)));
  if (directScratch_.size() < static_cast<size_t>(T * S)) directScratch_.resize(static_cast<size_t>(T * S));
  // Up to 7 output rows split unevenly (7x7: one thread does 4 rows of 7):
  // halves of the output channels instead, each a plan of its own over the
  // whole image (the input is read by both; the outputs are separate planes).
  const int64_t half = Cout_ / 2;
  if (pieces > 1 && Ho <= 7 && Ho % 2 == 1 && half % 16 == 0) {
    for (int h = 0; h < 2; ++h) coVectorPlan(coVecHalves_[h], half, w + h * half * Cin_ * win_.kSize());
    return kernels::runShared(2, [&](int64_t i, int slot) {
      coVecHalves_[i].run(x, y + i * half * P, directScratch_.data() + slot * S, b ? b + i * half : nullptr, act,
                          r ? r + i * half * P : nullptr);
    });
  }
  if (pieces > 1)
    return kernels::runShared(pieces, [&](int64_t i, int slot) {
      pl.run(x, y, directScratch_.data() + slot * S, b, act, r, Ho * i / pieces, Ho * (i + 1) / pieces);
    });
  parallelFor(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n)
        pl.run(x + n * Cin_ * inN, y + n * Cout_ * P, directScratch_.data() + t * S, b, act,
               r ? r + n * Cout_ * P : nullptr);
  });
}

void ConvKernel::sparsePointwisePath(const float* x, const float* w, const float* b, float* y, int threads,
                                     const float* r) {
  kernels::PointwiseSparsePlan& pl = pws_;
  if (pl.cin != Cin_ || pl.cout != Cout_ || pl.first.empty()) pl.pack(w, b, Cout_, Cin_);  // frozen: once
  const int64_t P = win_.outSize();
  const kernels::Activation* act = r ? &act_ : &pathAct_;  // with a residual, the activation comes after it
  const int64_t S = pl.stageFloats(P);                     // each worker's aligned copy of an image (0: not needed)
  const size_t need = static_cast<size_t>(S * workers(Cout_, threads));
  if (directScratch_.size() < need) directScratch_.resize(need);
  imagesOrChannels(Cout_, threads, [&](int64_t t, int64_t n, int64_t c0, int64_t c1) {
    pl.run(x + n * Cin_ * P, P, y + n * Cout_ * P, r ? r + n * Cout_ * P : nullptr, act, c0, c1,
           S > 0 ? directScratch_.data() + t * S : nullptr);
  });
}

void ConvKernel::gemmPath(const float* x, const float* w, const float* b, float* y, int threads, Mode mode) {
  const int64_t P = win_.outSize(), Kc = Cg_ * win_.kSize(), CoutG = Cout_ / group_, inN = win_.inSize();
  const int64_t colN = Cin_ * win_.kSize() * P;
  const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, N_)));
  const int inner = T == 1 ? threads : 1;
  if (!pointwise() && col_.size() < static_cast<size_t>(T * colN)) sizeScratch(col_, static_cast<size_t>(T * colN));
  parallelFor(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* col = pointwise() ? nullptr : col_.data() + t * colN;
      for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n) {
        const float* xn = x + n * Cin_ * inN;
        if (col) im2col(xn, Cin_, win_, col, inner);
        const float* src = col ? col : xn;
        for (int64_t g = 0; g < group_; ++g) {
          float* yg = y + (n * Cout_ + g * CoutG) * P;
          const float* srcg = src + g * Kc * P;
          auto epilogue = [&](int64_t r0, int64_t r1) {
            if (b || !pathAct_.none())
              for (int64_t c = r0; c < r1; ++c) pathAct_.applyWithBias(yg + c * P, P, b ? b[g * CoutG + c] : 0.f);
          };
          if (mode == Mode::Dense) {
            kernels::productRows(MMap(yg, CoutG, P), CMap(w + g * CoutG * Kc, CoutG, Kc), CMap(srcg, Kc, P), inner);
            epilogue(0, CoutG);
            continue;
          }
          parallelFor(CoutG, inner, [&](int64_t r0, int64_t r1) {
            if (mode == Mode::Csr)
              kernels::csrTimesDense(csr_[static_cast<size_t>(g)], srcg, P, P, yg, P, r0, r1);
            else
              kernels::nmTimesDense(nm_[static_cast<size_t>(g)], srcg, P, P, yg, P, r0, r1);
            epilogue(r0, r1);
          });
        }
      }
    }
  });
}

void ConvKernel::tune(const float* x, const float* w, const float* b, float* y, int threads, KernelTuneCache* cache) {
  tunedBatch_ = tuneKey();
  const int64_t Kc = Cg_ * win_.kSize(), CoutG = Cout_ / group_;
  if (!sparseBuilt_) {
    sparseBuilt_ = true;
    density_ = kernels::density(w, Cout_ * Kc);
    if (density_ <= kMaxSparseDensity || !forced_.empty()) {
      hasNm_ = true;
      hasNmDirect_ = directApplies() && kernels::hasChannelNmPattern(w, Cout_, Cin_, win_.kSize());
      hasWino43Nm_ = winogradApplies() && kernels::hasKernelNmPattern(w, Cout_, Cin_, 9);
      // A kernel larger than 1x1 (a 1x1 kernel-wise pattern is the per-tap one, which nm-direct runs).
      hasNmKernelDirect_ =
          directApplies() && win_.kSize() > 1 && kernels::hasKernelNmPattern(w, Cout_, Cin_, win_.kSize());
      for (int64_t g = 0; g < group_; ++g) {
        const float* wg = w + g * CoutG * Kc;
        csr_.push_back(kernels::CsrMatrix::fromDense(wg, CoutG, Kc));
        kernels::NmMatrix nm;
        hasNm_ = hasNm_ && kernels::NmMatrix::fromDense(wg, CoutG, Kc, 2, 4, nm);
        nm_.push_back(std::move(nm));
      }
    }
  }
  mode_ = Mode::Dense;
  std::vector<Mode> modes{Mode::Dense};
  if (directApplies()) modes.push_back(Mode::Direct);
  if (!csr_.empty()) modes.push_back(Mode::Csr);
  if (hasNm_) modes.push_back(Mode::Nm);
  if (!csr_.empty() && directApplies()) modes.push_back(Mode::SparseDirect);
  if (hasNmDirect_) modes.push_back(Mode::NmDirect);
  if (winogradApplies()) modes.insert(modes.end(), {Mode::Winograd, Mode::Winograd43});
  if (hasWino43Nm_) modes.push_back(Mode::Winograd43Nm);
  if (hasNmKernelDirect_) modes.push_back(Mode::NmKernelDirect);
  if (!csr_.empty() && group_ == 1 && pointwise()) modes.push_back(Mode::SparsePointwise);
  const bool coVector = directApplies() && kernels::CoVectorConvPlan::applies(win_.s[1], win_.s[2]);
  if (coVector) modes.push_back(Mode::CoVector);
  // topiary.kernel forces one of the kernels that apply (tests, benchmarks).
  const std::pair<const char*, Mode> forcible[] = {{"dense", Mode::Dense},
                                                   {"direct", Mode::Direct},
                                                   {"csr", Mode::Csr},
                                                   {"2:4", Mode::Nm},
                                                   {"csr-direct", Mode::SparseDirect},
                                                   {"nm-direct", Mode::NmDirect},
                                                   {"winograd", Mode::Winograd},
                                                   {"winograd43", Mode::Winograd43},
                                                   {"co-vector", Mode::CoVector},
                                                   {"winograd43-nm", Mode::Winograd43Nm},
                                                   {"nm-kernel-direct", Mode::NmKernelDirect},
                                                   {"csr-pw", Mode::SparsePointwise}};
  for (const auto& f : forcible)
    if (forced_ == f.first && std::find(modes.begin(), modes.end(), f.second) != modes.end()) modes = {f.second};
  std::string key;  // a layer seen before (same shapes, zero pattern) reuses its choice
  if (cache && modes.size() > 1) {
    kernels::TuneKey k("Conv");
    for (int i = 0; i < 3; ++i) k.add(win_.in[i]).add(win_.k[i]).add(win_.s[i]).add(win_.d[i]).add(win_.padBegin[i]);
    key = k.add(tuneKey())
              .add(threads)
              .add(rawThreads_)
              .add(Cin_)
              .add(Cout_)
              .add(group_)
              .add(residual_)
              .add(static_cast<int64_t>(act_.kind))
              .addZeroPattern(w, Cout_ * Kc)
              .str();
    const int hit = cache->find(key);
    if (std::find(modes.begin(), modes.end(), static_cast<Mode>(hit)) != modes.end()) modes = {static_cast<Mode>(hit)};
  }
  // Time on a few images only: a kernel's cost per image hardly depends on
  // the batch, and the whole batch would make the first run slow.
  // One image on two threads: each kernel is timed with a helper already
  // running (kernels::wakeHelpers; the helpers sleep again 200 us after
  // their last job, less than the kernels timed before this one may take).
  const bool wake = modes.size() > 1 && N_ == 1 && rawThreads_ > 1;
  const int64_t fullBatch = N_;
  N_ = std::min<int64_t>(N_, 8);
  double best = 1e300;
  for (Mode m : modes) {
    if (modes.size() == 1) {
      mode_ = m;
      break;
    }
    if (wake) kernels::wakeHelpers(rawThreads_, std::chrono::microseconds(1000));
    double t = kernels::fastestOf(3, [&] {
      if (direct(m))
        directPath(x, w, b, y, threads, m);
      else if (winograd(m))
        winogradPath(m, x, w, b, y, threads);
      else if (m == Mode::CoVector)
        coVectorPath(x, w, b, y, threads);
      else if (m == Mode::SparsePointwise)
        sparsePointwisePath(x, w, b, y, threads);
      else
        gemmPath(x, w, b, y, threads, m);
    });
    if (t < best) {
      best = t;
      mode_ = m;
    }
  }
  N_ = fullBatch;
  if (!key.empty()) cache->store(key, static_cast<int>(mode_));
  char pct[16];
  std::snprintf(pct, sizeof pct, " %.0f%%", 100.0 * density_);
  const char* names[] = {"dense",
                         "csr",
                         "2:4",
                         "direct",
                         hasNm_ ? "2:4-direct" : "csr-direct",
                         "winograd",
                         "co-vector",
                         "winograd43",
                         "nm-direct",
                         "winograd43-nm",
                         "nm-kernel-direct",
                         "csr-pw"};
  choice_ = names[static_cast<int>(mode_)];
  if (!csr_.empty()) choice_ += pct;
}

Result<std::unique_ptr<Kernel>> createConv(const Node& node, int) {
  if (node.hasAttr("topiary.x_nhwc") || node.hasAttr("topiary.y_nhwc")) return createChannelsLastConv(node);
  WindowAttrs a;
  TOPIARY_RETURN_IF_ERROR(parseWindowAttrs(node, "Conv", false, a));
  int64_t group = node.attrInt("group", 1);
  if (group < 1) return Status::badInput("Conv attribute 'group' must be positive, got " + std::to_string(group));
  if (a.ceilMode) return Status::badInput("Conv has no attribute 'ceil_mode'");
  kernels::Activation act;
  TOPIARY_RETURN_IF_ERROR(kernels::Activation::fromNode(node, act));
  auto k = std::make_unique<ConvKernel>(std::move(a), group, act, node.attrInt("topiary.frozen", 0) != 0,
                                        node.attrString("topiary.kernel", ""));
  k->setResidual(node.attrInt("topiary.residual", 0) != 0);
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace topiary::ops
