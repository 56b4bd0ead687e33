#!/usr/bin/env bash
# GPU check for tvc: run from the repository root on a machine with an
# NVIDIA GPU (written for one H200, 16 cores, no internet; under 8 minutes).
#
#   1. configures (once) and builds tvc-runtime-unittests, tvc-unittests and
#      tvc-compile with Ninja in build-gpu (reused when present);
#   2. runs both GoogleTest binaries and counts the CUDA tests (suites named
#      Cuda* or Mgpu*) that ran and that skipped: when nvidia-smi sees a GPU,
#      a skipped CUDA test is a failure; runs the CUDA linear tests again
#      with TVC_CUDA_CUBLASLT=0 (the path without cuBLASLt epilogues);
#   3. when tvc-compile supports --target=cuda (its --help lists --sm),
#      compiles test/models/gpt2-tiny for CUDA and for the CPU and compares
#      the CUDA executable's logits (--inputs/--expected on the model's ONNX
#      test data) and generated tokens with the CPU executable's;
#   4. runs the lit tests of CUDA executables (cuda-device.test: both
#      bundled models against their PyTorch goldens, fp32 and TF32);
#   5. builds and runs tvc-cuda-linear-bench --quick (the fp32 linear entry
#      against the bf16/fp16-weight entries on GPT-2 and 7B shapes) and
#      tvc-cuda-structured-bench --quick (block-diagonal and 2:4 against
#      the dense linear of the same map);
#   6. runs bench/gpu_bench.py --quick (tvc fp32/bf16 vs PyTorch eager
#      fp32/fp16/bf16, like for like, and the GEMM ceiling);
#   7. with time left, bench/offload_decode.py --target cuda: GPT-2-124M
#      decode under device budgets of 100/50/25 % (issue 9's GPU table),
#      then 50/25 % with --kv-recompute=auto.
#
# Everything goes to ${OUT:-gpu-check-out}/gpu-check.txt (plus the logs of
# each step beside it), a summary at the end.
# Exit status: 0 all checks passed on a GPU; 1 a step failed; 2 no GPU was
# found (build and tests passed, nothing was checked on a device).
#
# Environment: BUILD_DIR (default build-gpu), OUT (default gpu-check-out),
# TVC_JOBS (default 16), GPU_CHECK_SECONDS (overall budget, default 470).
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-gpu}"
OUT="${OUT:-gpu-check-out}"
JOBS="${TVC_JOBS:-16}"
BUDGET="${GPU_CHECK_SECONDS:-470}"
mkdir -p "$OUT" || { echo "gpu-check: cannot create $OUT" >&2; exit 1; }
OUT="$(cd "$OUT" && pwd)"
REPORT="$OUT/gpu-check.txt"
: >"$REPORT"

STEPS=()
FAILED=0

# Prints a line to the terminal and to the report.
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }

# record NAME STATUS DETAIL: one line of the summary; STATUS is PASS, FAIL,
# SKIP or INFO. FAIL makes the exit status 1.
record() {
  STEPS+=("$(printf '%-22s %-4s %s' "$1" "$2" "$3")")
  say "[$2] $1: $3"
  if [ "$2" = FAIL ]; then FAILED=1; fi
}

# Seconds left of the overall budget, at least 10 and at most $1.
time_left() {
  local left=$((BUDGET - SECONDS))
  if [ "$left" -lt 10 ]; then left=10; fi
  if [ "$left" -gt "$1" ]; then left=$1; fi
  echo "$left"
}

# run_logged LOG CAP COMMAND...: runs COMMAND under `timeout` with output in
# $OUT/LOG; returns its status (124 when it ran out of time).
run_logged() {
  local log="$OUT/$1" cap="$2"
  shift 2
  timeout "$(time_left "$cap")" "$@" >"$log" 2>&1
}

summary() {
  say ""
  say "== summary ($SECONDS s) =="
  local line
  for line in "${STEPS[@]}"; do say "$line"; done
  if [ "$FAILED" -ne 0 ]; then
    say "RESULT: FAIL"
    exit 1
  fi
  if [ "$HAVE_GPU" -eq 0 ]; then
    say "RESULT: NO GPU (built and tested; nothing was checked on a device)"
    exit 2
  fi
  say "RESULT: PASS"
  exit 0
}

say "tvc gpu-check $(date -u '+%Y-%m-%dT%H:%M:%SZ') in $ROOT"
say "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

#--- the GPU -----------------------------------------------------------------
HAVE_GPU=0
if command -v nvidia-smi >/dev/null 2>&1; then
  GPUS="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)"
  if [ "${GPUS:-0}" -gt 0 ]; then
    HAVE_GPU=1
    record gpu INFO "$(nvidia-smi -L | head -n 1); $GPUS GPU(s)"
    nvidia-smi --query-gpu=name,driver_version,memory.total \
      --format=csv >>"$REPORT" 2>&1 || true
  else
    record gpu INFO "no GPU: nvidia-smi lists none"
  fi
else
  record gpu INFO "no GPU: nvidia-smi not found"
fi

#--- configure and build -----------------------------------------------------
for tool in cmake ninja; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    record tools FAIL "$tool not found (Debian: apt-get install cmake ninja-build)"
    summary
  fi
done

if [ -f "$BUILD_DIR/build.ninja" ]; then
  record configure PASS "reusing $BUILD_DIR"
else
  # build.sh's configuration where its compilers exist, else the defaults.
  CMAKE_ARGS=(-G Ninja -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=/usr/lib/llvm-22)
  if command -v clang++-22 >/dev/null 2>&1; then
    CMAKE_ARGS+=(-DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22)
  fi
  if command -v ld.lld >/dev/null 2>&1; then
    CMAKE_ARGS+=(-DLLVM_USE_LINKER=lld)
  fi
  if run_logged configure.log 120 cmake "${CMAKE_ARGS[@]}"; then
    record configure PASS "$BUILD_DIR ($(grep -o 'CUDA sources [A-Z]*' \
      "$OUT/configure.log" | head -n 1))"
  else
    record configure FAIL "cmake failed: see configure.log"
    summary
  fi
fi
# The CUDA branch of runtime/CMakeLists.txt is the one with the mgpu layer.
if ! grep -q 'CudaGpuRuntime' "$BUILD_DIR/build.ninja" 2>/dev/null; then
  record cuda-build INFO "configured without CUDA (no nvcc found?): CUDA tests cannot run"
fi

TARGETS=(tvc-runtime-unittests tvc-unittests tvc-compile tvc-opt tvc-import)
if run_logged build.log 420 ninja -C "$BUILD_DIR" -j "$JOBS" "${TARGETS[@]}"; then
  record build PASS "${TARGETS[*]} with -j$JOBS"
else
  record build FAIL "ninja failed or timed out: see build.log (tail below)"
  tail -n 30 "$OUT/build.log" >>"$REPORT"
  summary
fi

#--- GoogleTest --------------------------------------------------------------
CUDA_RAN=0
CUDA_SKIPPED=0
for binary in tvc-runtime-unittests tvc-unittests; do
  log="$binary.log"
  run_logged "$log" 180 "$BUILD_DIR/bin/$binary" --gtest_color=no
  status=$?
  # Per-test result lines end with "(N ms)"; the final lists do not.
  passed=$(grep -c '^\[       OK \] .* ms)$' "$OUT/$log")
  failed=$(grep -c '^\[  FAILED  \] .* ms)$' "$OUT/$log")
  skipped=$(grep -c '^\[  SKIPPED \] .* ms)$' "$OUT/$log")
  cuda_ran=$(grep -cE '^\[ +(OK|FAILED) +\] (Cuda|Mgpu)[A-Za-z0-9_]*\..* ms\)$' \
    "$OUT/$log")
  cuda_skipped=$(grep -cE '^\[  SKIPPED \] (Cuda|Mgpu)[A-Za-z0-9_]*\..* ms\)$' \
    "$OUT/$log")
  CUDA_RAN=$((CUDA_RAN + cuda_ran))
  CUDA_SKIPPED=$((CUDA_SKIPPED + cuda_skipped))
  detail="$passed passed, $failed failed, $skipped skipped (CUDA: $cuda_ran ran, $cuda_skipped skipped)"
  if [ "$status" -eq 0 ]; then
    record "$binary" PASS "$detail"
  else
    [ "$status" -eq 124 ] && detail="timed out; $detail"
    record "$binary" FAIL "exit $status; $detail; see $log"
    grep -E '^\[  FAILED  \]' "$OUT/$log" | head -n 20 >>"$REPORT"
  fi
done

# The linear entries again without cuBLASLt (TVC_CUDA_CUBLASLT=0): their
# cuBLAS path (bias broadcast, GEMM, activation kernel), which a machine
# without libcublasLt or a GEMM without a cuBLASLt algorithm takes.
if [ "$HAVE_GPU" -eq 1 ]; then
  if run_logged linear-no-cublaslt.log 120 env TVC_CUDA_CUBLASLT=0 \
    "$BUILD_DIR/bin/tvc-runtime-unittests" --gtest_color=no \
    --gtest_filter='CudaLinear*'; then
    record linear-no-cublaslt PASS "$(grep -c '^\[       OK \] .* ms)$' "$OUT/linear-no-cublaslt.log") CUDA linear tests on the cuBLAS path"
  else
    record linear-no-cublaslt FAIL "the CUDA linear tests failed with TVC_CUDA_CUBLASLT=0; see linear-no-cublaslt.log"
    grep -E '^\[  FAILED  \]' "$OUT/linear-no-cublaslt.log" | head -n 20 >>"$REPORT"
  fi
fi

if [ "$HAVE_GPU" -eq 1 ]; then
  if [ "$CUDA_SKIPPED" -gt 0 ] || [ "$CUDA_RAN" -eq 0 ]; then
    record cuda-tests FAIL "a GPU is present but $CUDA_SKIPPED CUDA tests skipped ($CUDA_RAN ran); skip reasons follow"
    grep -h -B1 '^\[  SKIPPED \] \(Cuda\|Mgpu\)' "$OUT"/tvc-*unittests.log |
      grep -v '^\[\|^--$' | sort -u | head -n 10 >>"$REPORT"
  else
    record cuda-tests PASS "$CUDA_RAN CUDA tests ran on the GPU, none skipped"
  fi
else
  record cuda-tests SKIP "no GPU: $CUDA_SKIPPED CUDA tests skipped as they should ($CUDA_RAN device-independent ones ran)"
fi

#--- optional: gpt2-tiny through --target=cuda -------------------------------
COMPILE="$BUILD_DIR/bin/tvc-compile"
MODEL="$ROOT/test/models/gpt2-tiny"
HELP="$("$COMPILE" --help 2>&1 || true)"
if ! grep -q -- '--sm\b' <<<"$HELP" || grep -q 'cuda: not yet' <<<"$HELP"; then
  record gpt2-tiny-cuda SKIP "tvc-compile has no --target=cuda yet (its --help lists no --sm)"
  summary
fi
if [ "$HAVE_GPU" -eq 0 ]; then
  record gpt2-tiny-cuda SKIP "no GPU to run the CUDA executable on"
  summary
fi

CPU_EXE="$OUT/gpt2-tiny-cpu"
CUDA_EXE="$OUT/gpt2-tiny-cuda"
if ! run_logged compile-cpu.log 120 "$COMPILE" "$MODEL/model.mlir" \
  --weights-dir "$MODEL" -o "$CPU_EXE"; then
  record gpt2-tiny-cpu FAIL "tvc-compile --target=cpu failed: see compile-cpu.log"
  summary
fi
if ! run_logged compile-cuda.log 120 "$COMPILE" "$MODEL/model.mlir" \
  --weights-dir "$MODEL" --target=cuda --sm=90 -o "$CUDA_EXE"; then
  record gpt2-tiny-cuda FAIL "tvc-compile --target=cuda --sm=90 failed: see compile-cuda.log"
  tail -n 10 "$OUT/compile-cuda.log" >>"$REPORT"
  summary
fi
record gpt2-tiny-compile PASS "cpu and cuda executables in $OUT"

# Logits: the full graph on the model's ONNX test data (executables built
# with ONNX support take --inputs; the CPU one's outputs are the reference).
if "$CPU_EXE" --help 2>&1 | grep -q -- '--inputs'; then
  if run_logged logits-cpu.log 60 "$CPU_EXE" --inputs "$MODEL/test_data_set_0" \
    --outputs "$OUT/logits-cpu" &&
    run_logged logits-cuda.log 60 "$CUDA_EXE" --inputs "$MODEL/test_data_set_0" \
      --expected "$OUT/logits-cpu" --max-error-scale 1e-3; then
    record gpt2-tiny-logits PASS "CUDA logits within 1e-3 * max|logit| of the CPU's ($(tail -n 1 "$OUT/logits-cuda.log"))"
  else
    record gpt2-tiny-logits FAIL "CUDA logits differ from the CPU's or a run failed: see logits-*.log"
    tail -n 5 "$OUT/logits-cuda.log" >>"$REPORT"
  fi
else
  record gpt2-tiny-logits SKIP "the executables print no logits (built without ONNX, no --inputs): comparing tokens only"
fi

# Tokens: greedy generation, prefill plus KV-cached decode steps. The
# executables print the ids to stdout and timings to stderr.
GEN_ARGS=(--prompt-ids '1,2,3' --max-new-tokens 4)
if timeout "$(time_left 60)" "$CPU_EXE" "${GEN_ARGS[@]}" \
  >"$OUT/tokens-cpu.txt" 2>"$OUT/tokens-cpu.log" &&
  timeout "$(time_left 60)" "$CUDA_EXE" "${GEN_ARGS[@]}" \
    >"$OUT/tokens-cuda.txt" 2>"$OUT/tokens-cuda.log"; then
  cpu_tokens="$(cat "$OUT/tokens-cpu.txt")"
  cuda_tokens="$(cat "$OUT/tokens-cuda.txt")"
  if [ -n "$cpu_tokens" ] && [ "$cpu_tokens" = "$cuda_tokens" ]; then
    record gpt2-tiny-tokens PASS "same tokens: $(paste -sd ' ' <<<"$cuda_tokens")"
  else
    record gpt2-tiny-tokens FAIL "cpu '$(paste -sd ' ' <<<"$cpu_tokens")' vs cuda '$(paste -sd ' ' <<<"$cuda_tokens")'"
  fi
else
  record gpt2-tiny-tokens FAIL "an executable failed: see tokens-*.log"
fi

# The lit end-to-end tests of CUDA executables (test/tools/tvc-compile/
# cuda-device.test: gpt2-tiny and llama-tiny against their PyTorch goldens
# in fp32 and TF32, greedy tokens against the CPU executable), which run
# only where lit sees a GPU.
LIT="$(command -v lit || echo /usr/lib/llvm-22/bin/lit)"
if [ -x "$LIT" ] && [ -f "$BUILD_DIR/test/lit.site.cfg.py" ]; then
  if run_logged lit-cuda.log "$(time_left 180)" "$LIT" -v "$BUILD_DIR/test" \
    --filter 'tools/tvc-compile/cuda'; then
    record lit-cuda PASS "$(grep -cE '^PASS' "$OUT/lit-cuda.log") passed, $(grep -cE '^UNSUPPORTED' "$OUT/lit-cuda.log") unsupported (cuda-device.test must be among the passed)"
    grep -q '^PASS: .*cuda-device.test' "$OUT/lit-cuda.log" ||
      record lit-cuda-device FAIL "cuda-device.test did not run: lit saw no GPU (nvidia-smi -L)"
  else
    record lit-cuda FAIL "see lit-cuda.log"
    grep -E '^(FAIL|  TVC)|error:' "$OUT/lit-cuda.log" | head -n 20 >>"$REPORT"
  fi
else
  record lit-cuda SKIP "no lit ($LIT) or no lit config in $BUILD_DIR/test"
fi

# The linear entries alone: fp32 against the 16-bit-weight entries on
# GPT-2 and 7B shapes (decode GEMV, prefill rounded-x cuBLAS); table in
# cuda-linear-bench.log.
if grep -q 'CudaGpuRuntime' "$BUILD_DIR/build.ninja" 2>/dev/null &&
  [ "$(time_left 600)" -gt 120 ]; then
  if run_logged cuda-linear-bench.log 60 ninja -C "$BUILD_DIR" -j "$JOBS" \
    tvc-cuda-linear-bench &&
    run_logged cuda-linear-bench.log 90 "$BUILD_DIR/bin/tvc-cuda-linear-bench" \
      --quick; then
    record cuda-linear-bench PASS "fp32 vs bf16/fp16 weights: cuda-linear-bench.log"
    cat "$OUT/cuda-linear-bench.log" >>"$REPORT"
  else
    record cuda-linear-bench FAIL "exit $?: see cuda-linear-bench.log"
    tail -n 15 "$OUT/cuda-linear-bench.log" >>"$REPORT"
  fi
fi

# The structured entries alone: block-diagonal and 2:4 against the dense
# fp32 linear of the same map (cuda-structured-bench.log).
if grep -q 'CudaGpuRuntime' "$BUILD_DIR/build.ninja" 2>/dev/null &&
  [ "$(time_left 600)" -gt 150 ]; then
  if run_logged cuda-structured-bench.log 60 ninja -C "$BUILD_DIR" \
    -j "$JOBS" tvc-cuda-structured-bench &&
    run_logged cuda-structured-bench.log 60 \
      "$BUILD_DIR/bin/tvc-cuda-structured-bench" --quick; then
    record cuda-structured-bench PASS "block-diagonal and 2:4 vs dense: cuda-structured-bench.log"
    cat "$OUT/cuda-structured-bench.log" >>"$REPORT"
  else
    record cuda-structured-bench FAIL "exit $?: see cuda-structured-bench.log"
    tail -n 15 "$OUT/cuda-structured-bench.log" >>"$REPORT"
  fi
fi

# The benchmark, quick form: tvc against PyTorch eager on GPT-2-shaped
# models with the cuBLAS GEMM ceiling (bench/gpu_bench.py; its table goes
# to gpu_bench.md). Last, so the checks above always get their time.
PYTHON="${PYTHON:-/usr/bin/python3}"
if [ "$(time_left 600)" -gt 60 ]; then
  if run_logged gpu-bench.log "$(time_left 300)" "$PYTHON" \
    "$ROOT/bench/gpu_bench.py" --quick --build "$BUILD_DIR" \
    --tvc-precisions fp32,bf16 --output "$OUT/gpu_bench"; then
    record gpu-bench PASS "table in gpu_bench.md"
  else
    record gpu-bench FAIL "exit $?: see gpu-bench.log"
    tail -n 15 "$OUT/gpu-bench.log" >>"$REPORT"
  fi
  [ -f "$OUT/gpu_bench.md" ] && cat "$OUT/gpu_bench.md" >>"$REPORT"
else
  record gpu-bench SKIP "out of time ($BUDGET s budget)"
fi

# Issue 9's device-budget table: GPT-2-124M on CUDA with the whole model
# on the device and under offload budgets of 100, 50 and 25 % (weights and
# KV caches the plan streams come from pinned host memory), decode tokens/s
# and the executor's peak resident bytes (bench/offload_decode.py --target
# cuda). After the model benchmark, with what time is left.
if [ "$HAVE_GPU" -eq 1 ] && [ "$(time_left 600)" -gt 90 ]; then
  if run_logged offload-gpu.log "$(time_left 240)" "$PYTHON" \
    "$ROOT/bench/offload_decode.py" --target cuda --build "$BUILD_DIR" \
    --rounds 1 --budgets 100,50,25 --tokens 32; then
    record offload-gpu PASS "device-budget table below"
    grep -E '^(\||machine|weights|generated|budget)' "$OUT/offload-gpu.log" >>"$REPORT"
  else
    record offload-gpu FAIL "exit $?: see offload-gpu.log"
    tail -n 15 "$OUT/offload-gpu.log" >>"$REPORT"
  fi
else
  record offload-gpu SKIP "no GPU or out of time"
fi
# The same budgets with --kv-recompute=auto: where the plan recomputes the
# streamed caches' keys and values instead of copying them (the CUDA
# prediction no GPU has checked yet; docs/Offload.md).
if [ "$HAVE_GPU" -eq 1 ] && [ "$(time_left 600)" -gt 90 ]; then
  if run_logged offload-recompute-gpu.log "$(time_left 180)" "$PYTHON" \
    "$ROOT/bench/offload_decode.py" --target cuda --build "$BUILD_DIR" \
    --rounds 1 --budgets 50,25 --tokens 32 --kv-recompute auto; then
    record offload-recompute-gpu PASS "recompute table below"
    grep -E '^(\||generated|budget|.*kv-recompute:)' \
      "$OUT/offload-recompute-gpu.log" >>"$REPORT"
  else
    record offload-recompute-gpu FAIL "exit $?: see offload-recompute-gpu.log"
    tail -n 15 "$OUT/offload-recompute-gpu.log" >>"$REPORT"
  fi
else
  record offload-recompute-gpu SKIP "no GPU or out of time"
fi

# The CUDA layer's own error lines (runtime/base/CudaGpuRuntime.cpp), if any.
if grep -h '^tvc: mgpu' "$OUT"/logits-cuda.log "$OUT"/tokens-cuda.log \
  >"$OUT/mgpu-errors.txt" 2>/dev/null; then
  record mgpu-errors FAIL "the CUDA executable reported $(wc -l <"$OUT/mgpu-errors.txt") mgpu errors; first follows"
  head -n 1 "$OUT/mgpu-errors.txt" >>"$REPORT"
fi

summary
