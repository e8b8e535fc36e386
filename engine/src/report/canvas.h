// A small RGB raster with antialiased lines, filled rectangles, discs and
// text in the built-in bitmap font, encoded as PNG with zlib. Enough for the
// report's charts without a GUI toolkit in the engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace topiary::report {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return w_; }
  int height() const { return h_; }
  Rgb pixel(int x, int y) const;

  void fillRect(int x, int y, int w, int h, Rgb c);
  // A line of the given thickness, antialiased by distance to the segment.
  void line(double x0, double y0, double x1, double y1, Rgb c, double thickness = 1.0);
  void disc(double cx, double cy, double radius, Rgb c);
  // Text with its top-left corner at (x, y); returns the advance in pixels.
  int text(int x, int y, const std::string& s, Rgb c);
  static int textWidth(const std::string& s);

  // PNG bytes (8-bit RGB, no interlace).
  std::string png() const;

 private:
  void blend(int x, int y, Rgb c, float alpha);
  int w_, h_;
  std::vector<uint8_t> px_;  // RGB, row-major
};

}  // namespace topiary::report
