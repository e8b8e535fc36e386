// Helpers shared by the GUI tests.
#pragma once

#include <QString>

#include "topiary/graph.h"

namespace guitest {

// The demo model: resources/models/lenet5.onnx when it exists, otherwise a
// freshly initialised LeNet-5 (topiary::buildArchitecture) saved to a
// temporary folder. Empty on failure.
QString demoModelPath();

// A random layered DAG of `nodes` operator nodes (Relu/Add/Conv-like types,
// no weights), for layout and drawing benchmarks. Deterministic by seed.
topiary::Graph syntheticGraph(int nodes, unsigned seed = 7);

// Runs the event loop for `durationMs` with a 5 ms timer and returns the
// longest gap between its ticks: how long the GUI thread was unresponsive.
double maxEventLoopGapMs(int durationMs);

// A fresh QSettings scope so tests do not read the user's recent files or
// window state.
void isolateSettings();

// Where tests write screenshots: $TOPIARY_SCREENSHOT_DIR (docs/screenshots to
// refresh the README's), else <build>/screenshots, so a test run never
// rewrites files in the source tree. Created if missing.
QString screenshotDir();

}  // namespace guitest
