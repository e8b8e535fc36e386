// The report's three chart kinds, drawn on a Canvas: line/scatter charts
// (sensitivity curves, the accuracy/size trade-off) and stacked bars (storage
// with the index overhead as its own segment).
#pragma once

#include <string>
#include <vector>

#include "report/canvas.h"

namespace topiary::report {

// A colour from a fixed qualitative palette (index wraps around).
Rgb paletteColor(int i);

struct Series {
  std::string name;
  std::vector<double> x, y;
  bool lines = true;                     // false: markers only (scatter)
  std::vector<std::string> pointLabels;  // drawn beside markers when given
};

struct XYChart {
  std::string title, xLabel, yLabel;
  std::vector<Series> series;
  bool xPercent = false, yPercent = false;  // tick labels as percentages of 1
  int width = 900, height = 520;
};

struct StackedBar {
  std::string label;           // under the bar
  std::vector<double> values;  // one per segment, stacked bottom-up
};

struct BarGroup {
  std::string label;  // under the group ("32 bits")
  std::vector<StackedBar> bars;
};

struct StackedBarChart {
  std::string title, yLabel;
  std::vector<std::string> segments;  // legend names, bottom-up
  std::vector<Rgb> colors;            // one per segment
  std::vector<BarGroup> groups;
  int width = 1000, height = 520;
};

Canvas drawXYChart(const XYChart& c);
Canvas drawStackedBars(const StackedBarChart& c);

}  // namespace topiary::report
