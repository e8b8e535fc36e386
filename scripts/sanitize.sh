#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer.
#
# One clang tree (build-asan, -O1 -g) serves both this suite and the libFuzzer
# targets of scripts/fuzz.sh: the engine is compiled once with the sanitizers
# and libFuzzer's coverage hooks (inert outside a fuzzer), which halves what
# CI compiles. Nothing is skipped: engine, conformance, cli and (when Qt
# widgets are installed) gui tests, including the fuzz-regression replay.
#
# Usage: scripts/sanitize.sh [--configure-only | --build-only] [extra ctest args, e.g. -R engine_]
# Environment: ASAN_BUILD_DIR (default build-asan), JOBS (default: nproc),
#              TOPIARY_SKIP_INSTALL=1 to skip installing clang.
# Exit code: ctest's (non-zero when any test fails or a sanitizer reports).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${ASAN_BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}
mode=run
case "${1:-}" in
  --configure-only) mode=configure; shift ;;
  --build-only) mode=build; shift ;;
esac

# clang and its sanitizer/libFuzzer runtimes (the normal build uses GCC;
# only these sanitizer/fuzz steps need clang).
SAN_PACKAGES=(clang libclang-rt-14-dev lld)
if [ "${TOPIARY_SKIP_INSTALL:-0}" != 1 ]; then
  missing=()
  for p in "${SAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "sanitize: installing Debian packages: ${missing[*]}"
    as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# -O1: ASan's recommended level (a Debug -O0 tree runs the training tests
# several times slower); Debug keeps assertions on. -gline-tables-only: the
# file and line of every frame of a report, without the full debug info that
# made the objects and the 70 links of this tree slower. lld links it when
# installed (GNU ld was the slow part of each test's link).
LINK_ARGS=()
if command -v ld.lld >/dev/null 2>&1; then
  LINK_ARGS=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld)
fi
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" "${LINK_ARGS[@]+"${LINK_ARGS[@]}"}" \
  -DTOPIARY_SANITIZE=ON -DTOPIARY_FUZZ=ON "${ASAN_CMAKE_ARGS[@]+"${ASAN_CMAKE_ARGS[@]}"}" \
  > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }

# Leak reports from inside system libraries (fontconfig, Qt's offscreen
# platform plugin caches) are not ours; everything else fails the test.
cat > "$BUILD/lsan.supp" <<'EOF'
leak:libfontconfig.so
leak:libQt6Gui.so
leak:libqoffscreen.so
leak:libglib-2.0.so
EOF
[ "$mode" = configure ] && exit 0

t0=$(date +%s)
cmake --build "$BUILD" -j"$JOBS"
t1=$(date +%s)
echo "sanitize: build took $((t1 - t0)) s"
[ "$mode" = build ] && exit 0

cd "$BUILD"
# halt_on_error: the first report fails the test. allocator_may_return_null:
# a refused huge allocation surfaces as std::bad_alloc, as in a normal build.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/lsan.supp:print_suppressions=0}
status=0
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j"$JOBS" "$@" || status=$?
t2=$(date +%s)
echo "sanitize: ctest took $((t2 - t1)) s (exit $status)"
exit $status
