#!/usr/bin/env bash
# Set-up, build, and the whole test suite (this is what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "$@"
# No Qt header may appear in the engine.
if grep -rEn '#include *<Q' engine/; then
  echo "error: the engine must not include Qt headers" >&2
  exit 1
fi
cd "${BUILD_DIR:-build}"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2
