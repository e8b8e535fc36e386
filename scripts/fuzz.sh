#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, coverage-instrumented
# engine) in build-fuzz and runs each for a bounded time with a seed corpus
# taken from the ONNX test models (loader) and the example recipes (recipe).
# Crashing inputs are copied into tests/fuzz/regressions/<target>/, which the
# ctest test engine_fuzz_regressions replays in the normal build.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#        default 60 seconds, targets: loader recipe
# Environment: FUZZ_BUILD_DIR (default build-fuzz)
# Exit code: 0 when no new crashing input was found, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(loader recipe)
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}

# Only fuzzing needs these (the normal build uses GCC): clang, its libFuzzer
# and sanitizer runtimes, and LLVM's OpenMP runtime.
FUZZ_PACKAGES=(clang libclang-rt-14-dev libomp-dev)
missing=()
for p in "${FUZZ_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing Debian packages: ${missing[*]}"
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOPIARY_FUZZ=ON \
  -DTOPIARY_BUILD_GUI=OFF -DTOPIARY_NATIVE=OFF > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
cmake --build "$BUILD" -j2 --target "${TARGETS[@]/#/fuzz_}"

# Seed corpora (copies, so the fuzzer may add to them freely).
seed_loader() {
  local dir=$1
  find /usr/share/libonnx-testdata/data -name model.onnx -size -32k 2>/dev/null | sort | while read -r f; do
    cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-16).onnx"
  done
}
seed_recipe() {
  local dir=$1
  for f in resources/recipes/*.json; do [ -f "$f" ] && cp "$f" "$dir/"; done
  echo '{"default":{"granularity":"filter","sparsity":0.5,"criterion":"l1"}}' > "$dir/filter.json"
  echo '{"default":{"granularity":"nm","n":2,"m":4},"layers":{"fc3":{"sparsity":0}},"method":"dns","schedule":{"kind":"agp","steps":3}}' > "$dir/nm.json"
  echo '{"default":{"granularity":"element","sparsity":0.9},"quantize":{"bits":4,"per_channel":false},"finetune":{"epochs":1,"lr":0.01,"data":"fashion-mnist:train"}}' > "$dir/element.json"
}

status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  artifacts="$BUILD/artifacts/$t"
  regress="tests/fuzz/regressions/$t"
  mkdir -p "$corpus" "$artifacts" "$regress"
  [ -n "$(ls -A "$corpus")" ] || "seed_$t" "$corpus"
  before=$(ls "$artifacts" | wc -l)
  echo "fuzz: running fuzz_$t for ${SECONDS_PER_TARGET}s"
  # allocator_may_return_null: a refused huge allocation must surface as
  # std::bad_alloc (handled), not as an ASan abort.
  ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/tests/fuzz/fuzz_$t" "$corpus" "$regress" -max_total_time="$SECONDS_PER_TARGET" -timeout=20 \
    -rss_limit_mb=3072 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    > "$BUILD/fuzz_$t.log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/fuzz_$t.log" | grep -o '[0-9]*$' || echo "?")
  new=$(( $(ls "$artifacts" | wc -l) - before ))
  echo "fuzz: fuzz_$t ran $execs inputs; $new new crashing input(s)"
  if [ "$new" -gt 0 ]; then
    status=1
    for f in $(ls -t "$artifacts" | head -n "$new"); do cp "$artifacts/$f" "$regress/"; done
    grep -E "ERROR|SUMMARY|runtime error" "$BUILD/fuzz_$t.log" | head -5 || true
    echo "fuzz: copied into $regress (replayed by ctest engine_fuzz_regressions); log: $BUILD/fuzz_$t.log"
  fi
done
exit $status
