// Training-time augmentation of image batches: random translations with the
// edge pixels replicated (the background of Fashion-MNIST and MNIST is uniform,
// so the padding looks like more background) and left-right mirroring.
#include <algorithm>
#include <vector>

#include "topiary/train.h"

namespace topiary {

namespace {

// splitmix64: a small, well-mixed generator; one stream per (key, image).
uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

void augmentBatch(Tensor& batch, int shift, bool flip, uint64_t key) {
  if (batch.dtype() != DType::Float || batch.rank() != 4 || (shift <= 0 && !flip)) return;
  const int64_t n = batch.dim(0), c = batch.dim(1), h = batch.dim(2), w = batch.dim(3);
  const int64_t span = 2 * static_cast<int64_t>(std::max(shift, 0)) + 1;
  std::vector<float> plane(static_cast<size_t>(h * w));
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = mix(key ^ mix(static_cast<uint64_t>(i)));
    const int64_t dy = shift > 0 ? static_cast<int64_t>(r % static_cast<uint64_t>(span)) - shift : 0;
    const int64_t dx = shift > 0 ? static_cast<int64_t>((r >> 16) % static_cast<uint64_t>(span)) - shift : 0;
    const bool mirror = flip && ((r >> 40) & 1);
    if (dx == 0 && dy == 0 && !mirror) continue;
    for (int64_t ch = 0; ch < c; ++ch) {
      float* p = batch.f() + (i * c + ch) * h * w;
      std::copy(p, p + h * w, plane.begin());
      // Output pixel (y, x) reads input (y - dy, x - dx), mirrored first, clamped to the image.
      for (int64_t y = 0; y < h; ++y) {
        const int64_t sy = std::clamp<int64_t>(y - dy, 0, h - 1);
        for (int64_t x = 0; x < w; ++x) {
          int64_t sx = std::clamp<int64_t>(x - dx, 0, w - 1);
          if (mirror) sx = w - 1 - sx;
          p[y * w + x] = plane[static_cast<size_t>(sy * w + sx)];
        }
      }
    }
  }
}

}  // namespace topiary
