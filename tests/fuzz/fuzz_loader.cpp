// libFuzzer target: arbitrary bytes as an ONNX model (see fuzz_targets.h).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)fuzz::runLoaderTarget(data, size);
  return 0;
}
