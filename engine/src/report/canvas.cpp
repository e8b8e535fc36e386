#include "report/canvas.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>

#include "report/bitmap_font.h"

namespace topiary::report {

Canvas::Canvas(int width, int height, Rgb bg) : w_(std::max(1, width)), h_(std::max(1, height)) {
  px_.resize(static_cast<size_t>(w_) * static_cast<size_t>(h_) * 3);
  for (size_t i = 0; i < px_.size(); i += 3) {
    px_[i] = bg.r;
    px_[i + 1] = bg.g;
    px_[i + 2] = bg.b;
  }
}

Rgb Canvas::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return {};
  const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(w_) + static_cast<size_t>(x)) * 3;
  return {px_[i], px_[i + 1], px_[i + 2]};
}

void Canvas::blend(int x, int y, Rgb c, float a) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_ || a <= 0.f) return;
  a = std::min(a, 1.f);
  const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(w_) + static_cast<size_t>(x)) * 3;
  auto mix = [a](uint8_t under, uint8_t over) { return static_cast<uint8_t>(std::lround(under + (over - under) * a)); };
  px_[i] = mix(px_[i], c.r);
  px_[i + 1] = mix(px_[i + 1], c.g);
  px_[i + 2] = mix(px_[i + 2], c.b);
}

void Canvas::fillRect(int x, int y, int w, int h, Rgb c) {
  const int x0 = std::max(0, x), y0 = std::max(0, y), x1 = std::min(w_, x + w), y1 = std::min(h_, y + h);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) blend(xx, yy, c, 1.f);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, double thickness) {
  const double r = std::max(0.5, thickness / 2.0);
  const int bx0 = static_cast<int>(std::floor(std::min(x0, x1) - r - 1)),
            bx1 = static_cast<int>(std::ceil(std::max(x0, x1) + r + 1));
  const int by0 = static_cast<int>(std::floor(std::min(y0, y1) - r - 1)),
            by1 = static_cast<int>(std::ceil(std::max(y0, y1) + r + 1));
  const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  for (int y = std::max(0, by0); y <= std::min(h_ - 1, by1); ++y)
    for (int x = std::max(0, bx0); x <= std::min(w_ - 1, bx1); ++x) {
      const double px = x + 0.5, py = y + 0.5;
      double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
      t = std::clamp(t, 0.0, 1.0);
      const double ex = x0 + t * dx - px, ey = y0 + t * dy - py;
      const double d = std::sqrt(ex * ex + ey * ey);
      blend(x, y, c, static_cast<float>(std::clamp(r + 0.5 - d, 0.0, 1.0)));
    }
}

void Canvas::disc(double cx, double cy, double radius, Rgb c) { line(cx, cy, cx, cy, c, 2 * radius); }

int Canvas::textWidth(const std::string& s) { return static_cast<int>(s.size()) * kGlyphWidth; }

int Canvas::text(int x, int y, const std::string& s, Rgb c) {
  int cx = x;
  for (char ch : s) {
    for (int gy = 0; gy < kGlyphHeight; ++gy)
      for (int gx = 0; gx < kGlyphWidth; ++gx) blend(cx + gx, y + gy, c, glyphCoverage(ch, gx, gy));
    cx += kGlyphWidth;
  }
  return cx - x;
}

namespace {

void put32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  put32(out,
        static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

}  // namespace

std::string Canvas::png() const {
  // Each scanline is prefixed with filter type 0 (none); zlib does the work.
  std::string raw;
  raw.reserve(static_cast<size_t>(h_) * (static_cast<size_t>(w_) * 3 + 1));
  for (int y = 0; y < h_; ++y) {
    raw.push_back(0);
    raw.append(reinterpret_cast<const char*>(&px_[static_cast<size_t>(y) * static_cast<size_t>(w_) * 3]),
               static_cast<size_t>(w_) * 3);
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  compress2(reinterpret_cast<Bytef*>(&z[0]), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 6);
  z.resize(zlen);
  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put32(ihdr, static_cast<uint32_t>(w_));
  put32(ihdr, static_cast<uint32_t>(h_));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit, RGB, deflate, no filter method, no interlace
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", std::string());
  return out;
}

}  // namespace topiary::report
