// Renders a layer's weights as one small heatmap per filter into a single
// QImage (no item per pixel, so 512 filters draw in milliseconds):
//  - Conv [F, C, kh, kw]: a tile per filter, its C kernels in a near-square grid;
//  - Gemm/MatMul: a tile per output neuron, its inputs wrapped into a square.
// Colours: diverging blue (negative) / white / red (positive), exact zeros a
// neutral grey, pruned weights hatched dark, fully pruned filters crossed out.
#pragma once

#include <QImage>
#include <QPoint>
#include <QVector>

#include "topiary/tensor.h"

class HeatmapRenderer {
 public:
  struct Element {
    bool valid = false;
    int filter = 0, channel = 0, row = 0, col = 0;
    int within = 0;  // flat index inside the filter (a dense neuron's input)
    float value = 0;
    bool pruned = false;
  };
  struct Options {
    bool filtersAreColumns = false;  // Gemm with transB=0 and MatMul store [in, out]
    int maxImageSide = 1800;         // the pixel scale shrinks to fit this
    int maxScale = 8;
  };

  // mask may be null (nothing pruned) or have the weight's shape.
  HeatmapRenderer(const topiary::Tensor& weight, const topiary::Tensor* mask, const Options& options);

  const QImage& image() const { return image_; }
  int filterCount() const { return filters_; }
  int prunedFilterCount() const { return prunedFilters_; }
  int scale() const { return scale_; }
  float maxAbs() const { return maxAbs_; }
  // The weight under an image pixel (invalid in gaps).
  Element locate(QPoint pixel) const;
  // Diverging colour for v in [-1, 1] (0 gives white).
  static QRgb divergingColor(float v);
  static QRgb zeroColor() { return qRgb(150, 150, 150); }

 private:
  int64_t flatIndex(int f, int c, int r, int k) const;
  void render(const topiary::Tensor& weight, const topiary::Tensor* mask);

  int filters_ = 0, channels_ = 1, kh_ = 1, kw_ = 1;
  bool columns_ = false;
  int kernelCols_ = 1, kernelRows_ = 1;  // kernel grid inside a tile
  int tileW_ = 1, tileH_ = 1;            // tile size in weight units (with gaps)
  int tilesPerRow_ = 1;
  int scale_ = 1;
  int gap_ = 2;                          // pixels between tiles
  int prunedFilters_ = 0;
  float maxAbs_ = 0;
  QVector<float> values_;                // filter-major copy of the weights
  QVector<char> pruned_;
  QImage image_;
  Options options_;
};
