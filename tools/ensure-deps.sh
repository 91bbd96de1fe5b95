#!/bin/sh
# ensure-deps.sh — checks that the packages shiftc builds and tests with are present.
# As root it installs what is missing (apt-get, --no-install-recommends); otherwise it
# names the packages to install and fails. Usage: tools/ensure-deps.sh [build|test]
set -e
need_build="flex:flex bison:bison gcc:gcc make:make protoc-c:protobuf-c-compiler"
need_build_hdr="/usr/include/yaml.h:libyaml-dev /usr/include/cjson/cJSON.h:libcjson-dev /usr/include/protobuf-c/protobuf-c.h:libprotobuf-c-dev /usr/include/onnx/onnx.proto:libonnx-dev"
need_test="clang:clang chromium:chromium"
# ONNX Runtime reference (tests/cli/test_onnx_ort.c; tools/ort-install.sh puts it in build/ort)
need_test="$need_test node:nodejs npm:npm"
# ONNX conformance cases (tests/unit/test_onnx_conformance.c)
need_test_files="/usr/share/libonnx-testdata/data/node:libonnx-testdata"
# The SIMD and embedded targets' tests (tests/cli/test_targets.c, test_baremetal.c):
# cross compilers, their C libraries, and emulators.
need_test_cross="aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf qemu-aarch64:qemu-user arm-none-eabi-gcc:gcc-arm-none-eabi qemu-system-arm:qemu-system-arm"
need_test_cross_files="/usr/aarch64-linux-gnu/include/stdio.h:libc6-dev-arm64-cross /usr/arm-linux-gnueabihf/include/stdio.h:libc6-dev-armhf-cross /usr/lib/picolibc/arm-none-eabi/picolibc.specs:picolibc-arm-none-eabi"
missing=""
check_cmds() { for pair in $1; do cmd=${pair%%:*}; pkg=${pair#*:}; command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"; done; }
check_files() { for pair in $1; do f=${pair%%:*}; pkg=${pair#*:}; [ -e "$f" ] || missing="$missing $pkg"; done; }
check_cmds "$need_build"
check_files "$need_build_hdr"
if [ "${1:-build}" = test ]; then check_cmds "$need_test"; check_files "$need_test_files"; check_cmds "$need_test_cross"; check_files "$need_test_cross_files"; fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null
else
  echo "ensure-deps: missing packages:$missing" >&2
  echo "ensure-deps: install them with: sudo apt-get install$missing" >&2
  exit 1
fi
