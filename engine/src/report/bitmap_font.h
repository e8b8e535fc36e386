// The report charts' built-in font: ASCII 32..126, fixed 7x14 cells.
#pragma once

namespace topiary::report {

constexpr int kGlyphWidth = 7;
constexpr int kGlyphHeight = 14;
constexpr int kGlyphAscent = 11;

// Coverage in [0, 1] of pixel (x, y) of the glyph of `c` (0 outside the cell
// and for characters outside printable ASCII).
float glyphCoverage(char c, int x, int y);

}  // namespace topiary::report
