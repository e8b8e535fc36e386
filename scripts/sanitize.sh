#!/usr/bin/env bash
# Debug build with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-asan, then the whole ctest suite there (including the fuzz
# regressions, so a fixed memory error that comes back is caught).
# Usage: scripts/sanitize.sh [extra ctest args, e.g. -R engine_]
# Environment: ASAN_BUILD_DIR (default build-asan), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${ASAN_BUILD_DIR:-build-asan}
JOBS=${JOBS:-2}
cmake -S . -B "$BUILD" -DTOPIARY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DTOPIARY_BUILD_GUI=OFF \
  > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
cmake --build "$BUILD" -j"$JOBS"
cd "$BUILD"
# detect_leaks stays on; halt_on_error makes the first report fail the test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j"$JOBS" "$@"
