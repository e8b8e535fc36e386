// The ImageDecoder the engine's folder:DIR data sets need, backed by QImage
// (available when the CLI is built with Qt Gui).
#pragma once

namespace cli {
// Registers the decoder with the engine (no-op in builds without Qt Gui).
void installImageDecoder();
}  // namespace cli
