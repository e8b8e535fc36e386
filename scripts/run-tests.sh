#!/usr/bin/env bash
# Set-up, build, and the whole test suite (this is what CI runs):
#  1. setup.sh + the normal Release build in build/, then ctest there;
#  2. the same suite built with clang + ASan + UBSan (-O1) in build-asan
#     (scripts/sanitize.sh), then ctest there;
#  3. each libFuzzer target (ONNX loader, recipe parser) for 60 s under
#     ASan/UBSan (scripts/fuzz.sh); any finding fails.
# Usage: scripts/run-tests.sh [--quick] [extra cmake args for build/]
#   --quick (or TOPIARY_QUICK=1): step 1 only, for a fast local check.
# Environment: BUILD_DIR (default build), FUZZ_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${TOPIARY_QUICK:-0}
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
stamp() { date +%s; }
t0=$(stamp)

bash scripts/setup.sh "$@"
# No Qt header may appear in the engine.
if grep -rEn '#include *<Q' engine/; then
  echo "error: the engine must not include Qt headers" >&2
  exit 1
fi
(cd "${BUILD_DIR:-build}" && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2)
t1=$(stamp)
echo "run-tests: build + tests took $((t1 - t0)) s"
[ "$quick" = 1 ] && exit 0

bash scripts/sanitize.sh
t2=$(stamp)
echo "run-tests: ASan+UBSan build + tests took $((t2 - t1)) s"

bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
t3=$(stamp)
echo "run-tests: fuzzing took $((t3 - t2)) s; total $((t3 - t0)) s"
