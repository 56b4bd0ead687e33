#!/usr/bin/env bash
# tvc versus ONNX Runtime (CPU) on a GPT-2-124M-shaped model, in one run.
#
#   bench/ort_compare.sh [--build DIR] [--scratch DIR] [--rounds N]
#       [--repeat N] [--threads N] [--prefill-tokens T,...] [--past P,...]
#       [--layers N] [--max-seq-len C]
#
# 1. installs onnxruntime-node (pinned in bench/package.json) into
#    bench/node_modules with `npm install --ignore-scripts`;
# 2. writes the model with random weights into the scratch directory
#    (bench/make_gpt2_124m.py, /usr/bin/python3 + torch; reused while the
#    script and its arguments are unchanged): an HF checkpoint that
#    tvc-import reads, and prefill/decode ONNX exports of the same weights;
# 3. checks that both engines compute PyTorch's logits on a short prompt;
# 4. measures memory read bandwidth (bench/membw.c, same thread count);
# 5. runs ONNX Runtime (bench/ort_bench.mjs) and `tvc-run --bench --json`
#    alternately, --rounds times each (A B A B ...), each after warm-up;
# 6. prints the table (bench/compare_report.py): medians, ratios ORT/tvc
#    (> 1: tvc faster or smaller) and the decode lower bound
#    weights / bandwidth.
#
# Defaults: build dir $TVC_BUILD or ./build, scratch ${TMPDIR:-/tmp}/tvc-bench-gpt2,
# 2 rounds, 10 timed runs, 2 threads, T = 128,512, P = 128,512.
# Needs node >= 18, npm, /usr/bin/python3 with torch + onnx, a C compiler.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${TVC_BUILD:-$root/build}
scratch=${TMPDIR:-/tmp}/tvc-bench-gpt2
rounds=2
repeat=10
threads=2
prefill=128,512
past=128,512
layers=12
max_seq_len=0

while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
  esac
  [[ $# -ge 2 ]] || { echo "ort_compare.sh: $1 needs a value" >&2; exit 2; }
  case $1 in
    --build) build=$2 ;;
    --scratch) scratch=$2 ;;
    --rounds) rounds=$2 ;;
    --repeat) repeat=$2 ;;
    --threads) threads=$2 ;;
    --prefill-tokens) prefill=$2 ;;
    --past) past=$2 ;;
    --layers) layers=$2 ;;
    --max-seq-len) max_seq_len=$2 ;;
    *) echo "ort_compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

log() { echo "ort_compare.sh: $*" >&2; }
tvc_run=$build/bin/tvc-run
tvc_import=$build/bin/tvc-import
for tool in "$tvc_run" "$tvc_import"; do
  [[ -x $tool ]] || { log "missing $tool (build it, or pass --build DIR)"; exit 1; }
done
cc=$(command -v clang-22 || command -v cc || true)
[[ -n $cc ]] || { log "needs a C compiler for bench/membw.c"; exit 1; }

# 1. ONNX Runtime, pinned; its install script would fetch CUDA files.
ort_version=$(node -p "require('$here/package.json').dependencies['onnxruntime-node']")
installed=$(node -p "try { require('$here/node_modules/onnxruntime-node/package.json').version } catch { '' }")
if [[ $installed != "$ort_version" ]]; then
  log "installing onnxruntime-node $ort_version into bench/node_modules"
  (cd "$here" && npm install --ignore-scripts --no-audit --no-fund >&2)
fi

# 2. The model, regenerated when the generator or its arguments change.
source "$here/gpt2_model.sh"
gpt2_model "$scratch" "$layers" "$tvc_import"

# 3. Both engines against PyTorch's logits (ONNX Runtime's check runs
#    inside its first round).
log "checking tvc's logits against PyTorch"
"$tvc_run" "$scratch/model.mlir" --weights-dir "$scratch/hf" \
  --inputs "$scratch/sanity" --expected "$scratch/sanity" \
  --max-error-scale 1e-4 --threads "$threads" >&2

# 4. Memory bandwidth.
results=$scratch/results
rm -rf "$results" && mkdir -p "$results"
"$cc" -O3 -march=native -pthread "$here/membw.c" -o "$scratch/membw"
"$scratch/membw" 1024 "$threads" 9 > "$results/membw.json"

# 5. Interleaved rounds.
tvc_args=(--bench --json --threads "$threads" --repeat "$repeat"
          --prefill-tokens "$prefill" --past "$past" --weights-dir "$scratch/hf")
[[ $max_seq_len -gt 0 ]] && tvc_args+=(--max-seq-len "$max_seq_len")
for round in $(seq 1 "$rounds"); do
  sanity=()
  [[ $round -eq 1 ]] && sanity=(--sanity "$scratch/sanity")
  log "round $round/$rounds: ONNX Runtime"
  node "$here/ort_bench.mjs" --prefill-model "$scratch/prefill.onnx" \
    --decode-model "$scratch/decode.onnx" --threads "$threads" \
    --repeat "$repeat" --prefill-tokens "$prefill" --past "$past" \
    "${sanity[@]}" > "$results/ort.$round.json"
  log "round $round/$rounds: tvc"
  "$tvc_run" "$scratch/model.mlir" "${tvc_args[@]}" > "$results/tvc.$round.json"
done

# 6. The table.
echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$here/compare_report.py" "$results"
