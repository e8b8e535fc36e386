// Conv's 2-D depthwise paths (ConvKernel, ops/nn/conv_kernel.h): the
// channel-interleaved, per-plane and sparse kernels and the timing that
// picks one. 1-D and 3-D depthwise and every depthwise backward run on the
// plain loops of conv_depthwise.cpp.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "kernels/threading.h"
#include "ops/common.h"
#include "ops/nn/conv_kernel.h"

namespace topiary::ops {

void ConvKernel::depthwise2d(const float* x, const float* w, const float* b, float* y, int threads) {
  if (Cout_ == group_ && frozen_) {
    if (tunedBatch_ != tuneKey()) {
      tunedBatch_ = tuneKey();
      density_ = kernels::density(w, Cout_ * win_.kSize());
      dwKernel_ = forced_ == "direct" ? DwKernel::Interleaved : forced_ == "csr" ? DwKernel::Sparse : DwKernel::Plane;
      if (forced_ != "direct" && forced_ != "dense" && forced_ != "csr") {
        const int64_t fullBatch = N_;
        N_ = std::min<int64_t>(N_, 8);
        std::vector<DwKernel> kinds{DwKernel::Plane, DwKernel::Interleaved};
        if (density_ <= kMaxSparseDensity) kinds.push_back(DwKernel::Sparse);
        double best = 1e300;
        DwKernel tunedDw = kinds[0];
        for (DwKernel k : kinds) {
          const double t = kernels::fastestOf(3, [&] { depthwiseWith(k, x, w, b, y, threads); });
          if (t < best) best = t, tunedDw = k;
        }
        dwKernel_ = tunedDw;
        N_ = fullBatch;
      }
      const char* names[] = {"dw-plane", "dw-interleaved", "dw-sparse"};
      choice_ = names[static_cast<int>(dwKernel_)];
      char pct[16];
      std::snprintf(pct, sizeof pct, " %.0f%%", 100.0 * density_);
      if (dwKernel_ == DwKernel::Sparse) choice_ += pct;
    }
    return depthwiseWith(dwKernel_, x, w, b, y, threads);
  }
  depthwisePlanes(x, w, b, y, threads);
}

void ConvKernel::depthwiseWith(DwKernel k, const float* x, const float* w, const float* b, float* y, int threads) {
  if (k == DwKernel::Interleaved) return depthwiseInterleaved(x, w, b, y, threads);
  if (k == DwKernel::Sparse) return depthwiseSparse(x, w, b, y, threads);
  depthwisePlanes(x, w, b, y, threads);
}

void ConvKernel::depthwiseSparse(const float* x, const float* w, const float* b, float* y, int threads) {
  kernels::DepthwiseSparsePlan& pl = dws_;
  if (pl.C != Cin_ || !planMatches(pl) || pl.first.empty()) {
    pl = planFor<kernels::DepthwiseSparsePlan>();
    pl.C = Cin_;
    pl.pack(w, b);  // frozen weights: packed once per geometry
  }
  const int64_t P = win_.outSize(), inN = win_.inSize();
  imagesOrChannels(Cin_, threads, [&](int64_t, int64_t n, int64_t c0, int64_t c1) {
    pl.run(x + n * Cin_ * inN, y + n * Cout_ * P, &pathAct_, c0, c1);
  });
}

void ConvKernel::depthwiseInterleaved(const float* x, const float* w, const float* b, float* y, int threads) {
  kernels::DepthwisePlan& pl = dwi_;
  if (pl.C != Cin_ || !planMatches(pl) || pl.packed.empty()) {
    pl = planFor<kernels::DepthwisePlan>();
    pl.C = Cin_;
    pl.init();
    pl.pack(w, b);  // frozen weights: packed once per geometry
  }
  const int64_t P = win_.outSize(), inN = win_.inSize(), S = pl.scratchFloats();
  const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, N_)));
  if (directScratch_.size() < static_cast<size_t>(T * S)) directScratch_.resize(static_cast<size_t>(T * S));
  parallelFor(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t n = N_ * t / T; n < N_ * (t + 1) / T; ++n)
        pl.run(x + n * Cin_ * inN, y + n * Cout_ * P, directScratch_.data() + t * S, &pathAct_);
  });
}

void ConvKernel::depthwisePlanes(const float* x, const float* w, const float* b, float* y, int threads) {
  const int64_t P = win_.outSize(), inN = win_.inSize(), taps = win_.kSize(), mult = Cout_ / group_;
  kernels::DirectConvPlan& pl = dw_;
  const bool changed = configure(pl, 1, mult);
  if (changed || !frozen_ || dwPacked_.size() != static_cast<size_t>(group_)) {
    dwPacked_.resize(static_cast<size_t>(group_));
    for (int64_t c = 0; c < group_; ++c) pl.packInto(w + c * mult * taps, dwPacked_[static_cast<size_t>(c)]);
  }
  const int64_t S = pl.scratchFloats(), planes = N_ * group_;
  const int T = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, planes)));
  if (directScratch_.size() < static_cast<size_t>(T * S)) directScratch_.resize(static_cast<size_t>(T * S));
  parallelFor(T, T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t i = planes * t / T; i < planes * (t + 1) / T; ++i) {
        const int64_t n = i / group_, c = i % group_;
        pl.runPacked(dwPacked_[static_cast<size_t>(c)].data(), x + (n * Cin_ + c) * inN, y + (n * Cout_ + c * mult) * P,
                     directScratch_.data() + t * S, b ? b + c * mult : nullptr, &pathAct_);
      }
  });
}

}  // namespace topiary::ops
