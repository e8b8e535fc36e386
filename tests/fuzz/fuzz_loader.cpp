// libFuzzer target: arbitrary bytes as an ONNX model (see fuzz_targets.h).
#include <cstdlib>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Refusals are fine; a model that cannot re-load its own serialization is a bug.
  if (fuzz::runLoaderTarget(data, size).stage == fuzz::Stage::RoundTripBroken) std::abort();
  return 0;
}
