#include "report/charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/bitmap_font.h"

namespace topiary::report {

namespace {

const Rgb kInk{40, 40, 40}, kGrid{225, 225, 225}, kAxis{120, 120, 120};

// "Nice" tick step (1, 2 or 5 times a power of ten) for about `count` ticks.
double niceStep(double range, int count) {
  if (!(range > 0)) return 1;
  const double raw = range / count, p = std::pow(10.0, std::floor(std::log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

std::string tick(double v, double step, bool percent) {
  char buf[32];
  if (percent) {
    const double pv = v * 100, ps = step * 100;
    std::snprintf(buf, sizeof buf, ps < 1 ? "%.1f%%" : "%.0f%%", pv);
  } else if (std::fabs(v) >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  } else if (std::fabs(v) >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.0fK", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, step < 0.1 ? "%.2f" : step < 1 ? "%.1f" : "%.0f", v);
  }
  return buf;
}

struct Frame {
  int left = 70, top = 44, right = 0, bottom = 0;  // plot area in pixels
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;           // data range
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

void expand(double& lo, double& hi) {
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
}

void drawAxes(Canvas& c, const Frame& f, const std::string& title, const std::string& xl, const std::string& yl,
              bool xPct, bool yPct, bool xTicks) {
  c.text(f.left, 12, title, kInk);
  const double ys = niceStep(f.y1 - f.y0, 6);
  for (double v = std::ceil(f.y0 / ys) * ys; v <= f.y1 + 1e-9 * ys; v += ys) {
    const int y = static_cast<int>(std::lround(f.py(v)));
    c.fillRect(f.left, y, f.right - f.left, 1, kGrid);
    const std::string t = tick(v, ys, yPct);
    c.text(f.left - 6 - Canvas::textWidth(t), y - kGlyphHeight / 2, t, kInk);
  }
  if (xTicks) {
    const double xs = niceStep(f.x1 - f.x0, 8);
    for (double v = std::ceil(f.x0 / xs) * xs; v <= f.x1 + 1e-9 * xs; v += xs) {
      const int x = static_cast<int>(std::lround(f.px(v)));
      c.fillRect(x, f.top, 1, f.bottom - f.top, kGrid);
      const std::string t = tick(v, xs, xPct);
      c.text(x - Canvas::textWidth(t) / 2, f.bottom + 6, t, kInk);
    }
  }
  c.fillRect(f.left, f.bottom, f.right - f.left + 1, 1, kAxis);
  c.fillRect(f.left, f.top, 1, f.bottom - f.top, kAxis);
  c.text((f.left + f.right - Canvas::textWidth(xl)) / 2, f.bottom + 26, xl, kInk);
  c.text(8, f.top - 22, yl, kInk);
}

}  // namespace

Rgb paletteColor(int i) {
  static const Rgb p[] = {{31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
                          {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return p[((i % 10) + 10) % 10];
}

Canvas drawXYChart(const XYChart& ch) {
  Canvas c(ch.width, ch.height);
  // Legend on the right: one line per series.
  int legendW = 0;
  for (const auto& s : ch.series) legendW = std::max(legendW, Canvas::textWidth(s.name) + 30);
  Frame f;
  f.right = ch.width - std::max(20, legendW + 20);
  f.bottom = ch.height - 50;
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const auto& s : ch.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  expand(x0, x1);
  expand(y0, y1);
  const double xm = (x1 - x0) * 0.04, ym = (y1 - y0) * 0.06;
  f.x0 = x0 - xm, f.x1 = x1 + xm, f.y0 = y0 - ym, f.y1 = y1 + ym;
  drawAxes(c, f, ch.title, ch.xLabel, ch.yLabel, ch.xPercent, ch.yPercent, true);
  for (size_t k = 0; k < ch.series.size(); ++k) {
    const Series& s = ch.series[k];
    const Rgb col = paletteColor(static_cast<int>(k));
    const size_t n = std::min(s.x.size(), s.y.size());
    // Non-finite points (a failed measurement) are left out, never cast to pixels.
    auto ok = [&](size_t i) { return std::isfinite(s.x[i]) && std::isfinite(s.y[i]); };
    for (size_t i = 0; i + 1 < n && s.lines; ++i)
      if (ok(i) && ok(i + 1)) c.line(f.px(s.x[i]), f.py(s.y[i]), f.px(s.x[i + 1]), f.py(s.y[i + 1]), col, 2.0);
    for (size_t i = 0; i < n; ++i) {
      if (!ok(i)) continue;
      c.disc(f.px(s.x[i]), f.py(s.y[i]), s.lines ? 3.0 : 5.0, col);
      if (i < s.pointLabels.size())
        c.text(static_cast<int>(f.px(s.x[i])) + 8, static_cast<int>(f.py(s.y[i])) - 16, s.pointLabels[i], kInk);
    }
    const int ly = f.top + static_cast<int>(k) * 20;
    c.line(f.right + 14, ly + 7, f.right + 30, ly + 7, col, 3.0);
    c.text(f.right + 36, ly, s.name, kInk);
  }
  return c;
}

Canvas drawStackedBars(const StackedBarChart& ch) {
  Canvas c(ch.width, ch.height);
  Frame f;
  f.right = ch.width - 20;
  f.bottom = ch.height - 80;
  size_t bars = 0;
  double top = 0;
  for (const auto& g : ch.groups)
    for (const auto& b : g.bars) {
      ++bars;
      double sum = 0;
      for (double v : b.values) sum += v;
      top = std::max(top, sum);
    }
  f.x0 = 0, f.x1 = 1, f.y0 = 0, f.y1 = top > 0 ? top * 1.08 : 1;
  drawAxes(c, f, ch.title, "", ch.yLabel, false, false, false);
  // Legend at the top right.
  int lx = f.right;
  for (size_t s = ch.segments.size(); s-- > 0;) {
    lx -= Canvas::textWidth(ch.segments[s]) + 34;
    c.fillRect(lx, 14, 14, 12, s < ch.colors.size() ? ch.colors[s] : paletteColor(static_cast<int>(s)));
    c.text(lx + 18, 13, ch.segments[s], kInk);
  }
  const double slots = static_cast<double>(bars + ch.groups.size());  // one gap per group
  const double slot = (f.right - f.left - 10) / std::max(1.0, slots);
  double x = f.left + 10 + slot * 0.5;
  for (const auto& g : ch.groups) {
    const double gx0 = x;
    for (const auto& b : g.bars) {
      double base = 0;
      for (size_t s = 0; s < b.values.size(); ++s) {
        const Rgb col = s < ch.colors.size() ? ch.colors[s] : paletteColor(static_cast<int>(s));
        const int yTop = static_cast<int>(std::lround(f.py(base + b.values[s])));
        const int yBot = static_cast<int>(std::lround(f.py(base)));
        c.fillRect(static_cast<int>(x), yTop, std::max(2, static_cast<int>(slot * 0.8)), yBot - yTop, col);
        base += b.values[s];
      }
      // Bar labels are short; two rows when the slot is narrow.
      const std::string& l = b.label;
      const int bw = static_cast<int>(slot * 0.8);
      if (Canvas::textWidth(l) <= slot) {
        c.text(static_cast<int>(x) + (bw - Canvas::textWidth(l)) / 2, f.bottom + 6, l, kInk);
      } else {
        const size_t cut = std::min(l.size(), static_cast<size_t>(std::max(1.0, slot / kGlyphWidth)));
        c.text(static_cast<int>(x), f.bottom + 6, l.substr(0, cut), kInk);
        c.text(static_cast<int>(x), f.bottom + 6 + kGlyphHeight, l.substr(cut, cut), kInk);
      }
      x += slot;
    }
    c.text(static_cast<int>((gx0 + x - slot * 0.2 - Canvas::textWidth(g.label)) / 2), f.bottom + 44, g.label, kInk);
    x += slot;
  }
  return c;
}

}  // namespace topiary::report
