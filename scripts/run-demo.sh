#!/usr/bin/env bash
# Set-up, build, and start the workbench on the bundled demo model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MODEL=resources/models/demo-mlp.onnx
[ -f resources/models/lenet5.onnx ] && MODEL=resources/models/lenet5.onnx
if [ -x build/app/gui/topiary ]; then
  exec build/app/gui/topiary "$MODEL"
fi
build/app/cli/topiary-cli info "$MODEL"
build/app/cli/topiary-cli eval "$MODEL" --data fashion-mnist
