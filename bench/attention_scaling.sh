#!/usr/bin/env bash
# Attention cost against sequence length: dense causal prefill attention
# against every sparse mask kind, the runtime's CPU kernel alone.
#
#   bench/attention_scaling.sh [--build DIR] [--threads N] [--budget K]
#       [--runs N] [--kinds "window,top_k"] [--lengths "1024 2048 ..."]
#       [--svg FILE]
#
# 1. builds `tvc-kernel-bench` (runtime/kernels/cpu/KernelBench.cpp) in the
#    build dir;
# 2. runs its attention-scaling mode: for each T, one sequence of T tokens,
#    12 heads x 64 (GPT-2 124M's attention), tvc_kernel_attention_f32 under
#    each kind, interleaved after a warm-up, median of N runs each. The
#    sparse kinds keep about K keys per query: #tvc.sliding_window<K>,
#    #tvc.window_global<K, 64>, #tvc.block_local<64, K/64, 1> and
#    #tvc.top_k<K>;
# 3. prints the tables as Markdown (bench/attention_scaling_report.py): times
#    and their ratio to dense causal, time per token (flat = linear in T),
#    GFLOP/s over kept entries, and writes the plot (log-log time against T)
#    as an SVG.
#
# Defaults: build dir $TVC_BUILD or ./build, 2 threads, K = 256, 5 runs, all
# kinds, T = 1024 2048 4096 8192 16384, SVG docs/attention_scaling.svg. Takes
# about six minutes on 2 cores (dense causal and top-k at T = 16384 each
# score ~1.6e9 query-key pairs per head set).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${TVC_BUILD:-$root/build}
threads=2
budget=256
runs=5
kinds=all
lengths="1024 2048 4096 8192 16384"
svg=$root/docs/attention_scaling.svg

while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
  esac
  [[ $# -ge 2 ]] || { echo "attention_scaling.sh: $1 needs a value" >&2; exit 2; }
  case $1 in
    --build) build=$2 ;;
    --threads) threads=$2 ;;
    --budget) budget=$2 ;;
    --kinds) kinds=$2 ;;
    --runs) runs=$2 ;;
    --lengths) lengths=$2 ;;
    --svg) svg=$2 ;;
    *) echo "attention_scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

ninja -C "$build" tvc-kernel-bench >&2
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# shellcheck disable=SC2086 # lengths are separate arguments
"$build/bin/tvc-kernel-bench" "$threads" attention-scaling "$budget" "$runs" \
  "$kinds" $lengths | tee "$raw" >&2
python3 "$here/attention_scaling_report.py" "$raw" --svg "$svg"
