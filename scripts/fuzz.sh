#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, coverage-instrumented
# engine) in build-asan and runs each for a bounded time with a seed corpus
# taken from the ONNX test models (loader) and the example recipes (recipe).
# Crashing inputs are copied into tests/fuzz/regressions/<target>/, which the
# ctest test engine_fuzz_regressions replays in the normal build.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#        default 60 seconds, targets: loader recipe
# Environment: FUZZ_BUILD_DIR (default build-asan, shared with scripts/sanitize.sh),
#              FUZZ_SEED (libFuzzer -seed, default 1), FUZZ_CORPUS_DIR (default $BUILD/corpus)
# Exit code: 0 when no new crashing input was found, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(loader recipe)
BUILD=${FUZZ_BUILD_DIR:-build-asan}

# The sanitizer tree of scripts/sanitize.sh (clang, ASan + UBSan, engine with
# libFuzzer coverage hooks) also holds the fuzz targets: configure it the same
# way (installing clang when missing) and build only the two targets.
ASAN_BUILD_DIR="$BUILD" bash scripts/sanitize.sh --configure-only
cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" --target "${TARGETS[@]/#/fuzz_}"

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

# One target: fuzz it, report, copy new crashing inputs; returns 1 on a finding.
fuzz_one() {
  local t=$1 status=0 corpus artifacts regress before rc execs rate cov new slow
  corpus="${FUZZ_CORPUS_DIR:-$BUILD/corpus}/$t"
  artifacts="$BUILD/artifacts/$t"
  regress="tests/fuzz/regressions/$t"
  mkdir -p "$corpus" "$artifacts" "$regress"
  [ -n "$(ls -A "$corpus")" ] || "seed_$t" "$corpus"
  before=$(ls "$artifacts" | wc -l)
  touch "$BUILD/fuzz_$t.stamp"
  echo "fuzz: running fuzz_$t for ${SECONDS_PER_TARGET}s"
  # allocator_may_return_null: a refused huge allocation must surface as
  # std::bad_alloc (handled), not as an ASan abort. The engine is built with
  # -fno-sanitize-recover=undefined, so any UB report is a crash too.
  rc=0
  # A fixed seed (FUZZ_SEED, default 1) makes a run reproducible: a slower
  # machine explores a prefix of what a faster one does in the same time, so a
  # longer local run with the same seed and a fresh corpus covers what CI sees.
  ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD/tests/fuzz/fuzz_$t" "$corpus" "$regress" -max_total_time="$SECONDS_PER_TARGET" -timeout=20 \
    -seed="${FUZZ_SEED:-1}"  \
    -rss_limit_mb=3072 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    > "$BUILD/fuzz_$t.log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/fuzz_$t.log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$BUILD/fuzz_$t.log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$BUILD/fuzz_$t.log" | tail -1 | grep -o '[0-9]*' || echo "?")
  new=$(( $(ls "$artifacts" | wc -l) - before ))
  # A slow unit (over libFuzzer's 10 s report threshold but under -timeout) is
  # kept for a look but does not fail the run: its time depends on the machine.
  slow=$(find "$artifacts" -name 'slow-unit-*' -newer "$BUILD/fuzz_$t.stamp" | wc -l)
  new=$(( new - slow ))
  [ "$slow" -gt 0 ] && echo "fuzz: fuzz_$t: $slow slow input(s) kept in $artifacts (not a failure)"
  echo "fuzz: fuzz_$t ran $execs inputs ($rate/s, coverage $cov edges); exit $rc; $new new crashing input(s)"
  if [ "$new" -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    for f in $(ls -t "$artifacts" | grep -v '^slow-unit-' | head -n "$new"); do cp "$artifacts/$f" "$regress/"; done
    grep -E "ERROR|SUMMARY|runtime error" "$BUILD/fuzz_$t.log" | head -5 || true
    [ "$new" -gt 0 ] && echo "fuzz: copied into $regress (replayed by ctest engine_fuzz_regressions)"
    echo "fuzz: log: $BUILD/fuzz_$t.log"
  fi
  return $status
}

# The targets run side by side when there is a core for each (each fuzzer is
# one process on one core), one after the other otherwise.
status=0
if [ "$(nproc)" -ge ${#TARGETS[@]} ]; then
  pids=()
  for t in "${TARGETS[@]}"; do
    fuzz_one "$t" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for t in "${TARGETS[@]}"; do fuzz_one "$t" || status=1; done
fi
exit $status
