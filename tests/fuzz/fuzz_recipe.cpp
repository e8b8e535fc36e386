// libFuzzer target: arbitrary bytes as a recipe JSON (see fuzz_targets.h).
#include <cstdlib>
#include <string>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Outcome o = fuzz::runRecipeTarget(data, size);
  // A recipe we accepted and wrote back must load again, with the same
  // meaning: anything else is a bug, not a refusal, so make the fuzzer report it.
  if (o.stage == fuzz::Stage::CreateRefused || o.stage == fuzz::Stage::RoundTripBroken) std::abort();
  return 0;
}
