#!/usr/bin/env bash
# tvc developer entry point: installs what is missing (Debian 12 apt only),
# configures and builds with CMake + Ninja, then runs the bundled example or
# the whole test suite.
#
#   ./build.sh example   set up, build, import and compile the bundled trained
#                        byte-level GPT-2 to an executable and generate text
#   ./build.sh test      set up, build, run every test (lit + GoogleTest + fuzz)
#   ./build.sh build     set up and build only
#
# Environment: BUILD_DIR (default: build), TVC_JOBS (default: nproc).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${TVC_JOBS:-$(nproc)}"

# Everything tvc needs from Debian 12 (CUDA 13, when present, comes from the
# machine image at /usr/local/cuda and is detected, not installed).
PACKAGES=(
  cmake ninja-build g++ lld ccache
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
  libclang-rt-22-dev
  googletest libgtest-dev
  libdnnl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libzstd-dev libedit-dev libcurl4-openssl-dev
  python3-numpy python3-onnx
)

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_missing() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#PACKAGES[@]} packages present"
    return
  fi
  log "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

configure() {
  if [ -f "$BUILD_DIR/build.ninja" ]; then
    return
  fi
  log "configuring $BUILD_DIR"
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH=/usr/lib/llvm-22 \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld
}

build() {
  install_missing
  configure
  log "building with $JOBS jobs"
  ninja -C "$BUILD_DIR" -j "$JOBS"
}

run_example() {
  local model="$ROOT/test/models/bytegpt" out="$BUILD_DIR/example"
  mkdir -p "$out"
  log "tvc-import: $model (Hugging Face GPT-2 checkpoint) -> $out/bytegpt.mlir"
  "$BUILD_DIR/bin/tvc-import" "$model" -o "$out/bytegpt.mlir"
  log "tvc-compile: $out/bytegpt.mlir -> $out/bytegpt (+ bytegpt.weights)"
  "$BUILD_DIR/bin/tvc-compile" "$out/bytegpt.mlir" --weights-dir "$model" \
    -o "$out/bytegpt"
  log "generating 96 bytes (greedy, KV-cached decode; a 0.9M-parameter model trained on licence texts)"
  "$out/bytegpt" --prompt "The GNU General Public License" --max-new-tokens 96
  log "the same with sampling (temperature 0.8, top-k 20, seed 1)"
  "$out/bytegpt" --prompt "The GNU General Public License" --max-new-tokens 96 \
    --temperature 0.8 --top-k 20 --seed 1
}

run_tests() {
  log "running lit, GoogleTest, fuzz and ONNX conformance tests through ctest"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
}

case "${1:-}" in
  example) build; run_example ;;
  test) build; run_tests ;;
  build) build ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
