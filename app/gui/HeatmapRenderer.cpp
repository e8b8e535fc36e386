#include "HeatmapRenderer.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

HeatmapRenderer::HeatmapRenderer(const topiary::Tensor& weight, const topiary::Tensor* mask, const Options& options)
    : options_(options) {
  render(weight, mask);
}

QRgb HeatmapRenderer::divergingColor(float v) {
  v = std::clamp(v, -1.f, 1.f);
  // White to saturated red (positive) or blue (negative); a gamma below 1
  // keeps small weights visible next to a few large ones.
  float t = std::pow(std::abs(v), 0.6f);
  if (v >= 0) return qRgb(255 - int(t * 35), 255 - int(t * 200), 255 - int(t * 210));
  return qRgb(255 - int(t * 215), 255 - int(t * 160), 255 - int(t * 40));
}

int64_t HeatmapRenderer::flatIndex(int f, int c, int r, int k) const {
  return ((int64_t(f) * channels_ + c) * kh_ + r) * kw_ + k;
}

void HeatmapRenderer::render(const topiary::Tensor& weight, const topiary::Tensor* mask) {
  if (weight.dtype() != topiary::DType::Float || weight.rank() < 2 || weight.numel() == 0) return;
  const topiary::Shape& s = weight.shape();
  columns_ = options_.filtersAreColumns && weight.rank() == 2;
  const float* w = weight.f();
  const float* m = mask && mask->shape() == s && mask->dtype() == topiary::DType::Float ? mask->f() : nullptr;
  const int64_t n = weight.numel();
  if (weight.rank() == 2) {
    filters_ = int(columns_ ? s[1] : s[0]);
    const int in = int(columns_ ? s[0] : s[1]);
    channels_ = 1;
    kw_ = int(std::ceil(std::sqrt(double(in))));
    kh_ = (in + kw_ - 1) / kw_;
  } else {
    filters_ = int(s[0]);
    channels_ = int(s[1]);
    kh_ = weight.rank() >= 3 ? int(s[2]) : 1;
    kw_ = 1;
    for (int d = 3; d < weight.rank(); ++d) kw_ *= int(s[d]);
  }
  // Filter-major copy, padded where a dense layer's inputs do not fill the square.
  const int64_t per = int64_t(channels_) * kh_ * kw_;
  values_.fill(0.f, int(filters_ * per));
  pruned_.fill(2, int(filters_ * per));  // 2: padding, drawn as background
  for (int64_t i = 0; i < n; ++i) {
    int64_t f, within;
    if (weight.rank() == 2) {
      int64_t rows = s[0], cols = s[1];
      int64_t r = i / cols, c = i % cols;
      f = columns_ ? c : r;
      within = columns_ ? r : c;
      (void)rows;
    } else {
      f = i / per;
      within = i % per;
    }
    const int64_t dst = f * per + within;
    values_[int(dst)] = w[i];
    pruned_[int(dst)] = m ? (m[i] == 0.f) : 0;
    maxAbs_ = std::max(maxAbs_, std::abs(w[i]));
  }
  if (maxAbs_ == 0) maxAbs_ = 1;

  kernelCols_ = std::max(1, int(std::ceil(std::sqrt(double(channels_)))));
  kernelRows_ = (channels_ + kernelCols_ - 1) / kernelCols_;
  const int kGap = (kh_ * kw_ > 1 && channels_ > 1) ? 1 : 0;
  tileW_ = kernelCols_ * (kw_ + kGap) - kGap;
  tileH_ = kernelRows_ * (kh_ + kGap) - kGap;
  // Near-square overall image.
  tilesPerRow_ = std::max(1, int(std::ceil(std::sqrt(double(filters_) * tileH_ / std::max(1, tileW_)))));
  tilesPerRow_ = std::min(tilesPerRow_, filters_);
  const int tileRows = (filters_ + tilesPerRow_ - 1) / tilesPerRow_;
  const int unitW = tilesPerRow_ * tileW_, unitH = tileRows * tileH_;
  scale_ = std::clamp(options_.maxImageSide / std::max(1, std::max(unitW, unitH)), 1, options_.maxScale);
  gap_ = std::max(2, scale_);
  const int imgW = tilesPerRow_ * (tileW_ * scale_ + gap_) + gap_;
  const int imgH = tileRows * (tileH_ * scale_ + gap_) + gap_;
  image_ = QImage(imgW, imgH, QImage::Format_RGB32);
  image_.fill(qRgb(255, 255, 255));

  // Pixels are written straight into the scan lines: one pass, no painter.
  const QRgb hatchA = qRgb(60, 60, 60), hatchB = qRgb(115, 115, 115);
  prunedFilters_ = 0;
  for (int f = 0; f < filters_; ++f) {
    const int ox = gap_ + (f % tilesPerRow_) * (tileW_ * scale_ + gap_);
    const int oy = gap_ + (f / tilesPerRow_) * (tileH_ * scale_ + gap_);
    bool allPruned = true;
    for (int c = 0; c < channels_; ++c) {
      const int kx = (c % kernelCols_) * (kw_ + kGap), ky = (c / kernelCols_) * (kh_ + kGap);
      for (int r = 0; r < kh_; ++r)
        for (int k = 0; k < kw_; ++k) {
          const int64_t idx = flatIndex(f, c, r, k);
          const char p = pruned_[int(idx)];
          if (p == 2) continue;
          allPruned = allPruned && p == 1;
          const float v = values_[int(idx)];
          const QRgb col = p ? 0 : (v == 0.f ? zeroColor() : divergingColor(v / maxAbs_));
          const int px = ox + (kx + k) * scale_, py = oy + (ky + r) * scale_;
          for (int yy = 0; yy < scale_; ++yy) {
            auto* line = reinterpret_cast<QRgb*>(image_.scanLine(py + yy));
            for (int xx = 0; xx < scale_; ++xx)
              line[px + xx] = p ? (((px + xx + py + yy) / 2) % 2 ? hatchA : hatchB) : col;
          }
        }
    }
    if (allPruned) ++prunedFilters_;
  }
  // Fully pruned filters get a red cross so they read at any zoom.
  if (prunedFilters_ > 0) {
    QPainter p(&image_);
    p.setPen(QPen(QColor(220, 30, 30), std::max(1, scale_ / 2)));
    for (int f = 0; f < filters_; ++f) {
      bool allPruned = true;
      for (int64_t i = int64_t(f) * per; i < int64_t(f + 1) * per && allPruned; ++i)
        allPruned = pruned_[int(i)] != 0;
      if (!allPruned) continue;
      const int ox = gap_ + (f % tilesPerRow_) * (tileW_ * scale_ + gap_);
      const int oy = gap_ + (f / tilesPerRow_) * (tileH_ * scale_ + gap_);
      QRect r(ox, oy, tileW_ * scale_ - 1, tileH_ * scale_ - 1);
      p.drawLine(r.topLeft(), r.bottomRight());
      p.drawLine(r.topRight(), r.bottomLeft());
    }
  }
}

HeatmapRenderer::Element HeatmapRenderer::locate(QPoint pixel) const {
  Element e;
  if (filters_ == 0) return e;
  const int cellW = tileW_ * scale_ + gap_, cellH = tileH_ * scale_ + gap_;
  const int x = pixel.x() - gap_, y = pixel.y() - gap_;
  if (x < 0 || y < 0) return e;
  const int tx = x / cellW, ty = y / cellH;
  const int f = ty * tilesPerRow_ + tx;
  if (tx >= tilesPerRow_ || f >= filters_) return e;
  const int ux = (x % cellW) / scale_, uy = (y % cellH) / scale_;
  if (ux >= tileW_ || uy >= tileH_) return e;
  const int kGap = (kh_ * kw_ > 1 && channels_ > 1) ? 1 : 0;
  const int kc = ux / (kw_ + kGap), kr = uy / (kh_ + kGap);
  const int k = ux % (kw_ + kGap), r = uy % (kh_ + kGap);
  if (k >= kw_ || r >= kh_) return e;
  const int c = kr * kernelCols_ + kc;
  if (c >= channels_) return e;
  const int64_t idx = flatIndex(f, c, r, k);
  if (pruned_[int(idx)] == 2) return e;
  e.valid = true;
  e.filter = f;
  e.channel = c;
  e.row = r;
  e.col = k;
  e.within = int(idx - int64_t(f) * channels_ * kh_ * kw_);
  e.value = values_[int(idx)];
  e.pruned = pruned_[int(idx)] == 1;
  return e;
}
