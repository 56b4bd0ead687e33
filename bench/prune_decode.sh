#!/usr/bin/env bash
# Decode and prefill speed of pruned GPT-2-124M-shaped models against the
# dense compiled model, in one run.
#
#   bench/prune_decode.sh [--build DIR] [--scratch DIR] [--rounds N]
#       [--repeat N] [--threads N] [--prefill-tokens T] [--past P]
#
# 1. writes the model (bench/gpt2_model.sh, shared with ort_compare.sh);
# 2. prunes it with `tvc-opt --tvc-prune` into each variant: 2:4 compressed
#    (the 2:4 kernel), the same with the LM head pruned too, 2:4 masked
#    (the same matrices, dense, the dense kernel), and the structured
#    variants: 25 % of every layer's heads, 25 % of its FFN channels
#    (smaller dense matrices); new weights in safetensors files beside the
#    model;
# 3. runs `tvc-run --bench --json` on dense and each variant alternately,
#    --rounds times (A B C A B C ...), each after warm-up;
# 4. prints the table (bench/prune_report.py): medians, tokens/s, weight
#    bytes and speed-up over dense (> 1: faster).
#
# Defaults: build dir $TVC_BUILD or ./build, scratch
# ${TMPDIR:-/tmp}/tvc-bench-gpt2, 3 rounds, 10 timed runs, 2 threads,
# T = 128, P = 128. Needs /usr/bin/python3 with torch (to write the model).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${TVC_BUILD:-$root/build}
scratch=${TMPDIR:-/tmp}/tvc-bench-gpt2
rounds=3
repeat=10
threads=2
prefill=128
past=128

while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
  esac
  [[ $# -ge 2 ]] || { echo "prune_decode.sh: $1 needs a value" >&2; exit 2; }
  case $1 in
    --build) build=$2 ;;
    --scratch) scratch=$2 ;;
    --rounds) rounds=$2 ;;
    --repeat) repeat=$2 ;;
    --threads) threads=$2 ;;
    --prefill-tokens) prefill=$2 ;;
    --past) past=$2 ;;
    *) echo "prune_decode.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

log() { echo "prune_decode.sh: $*" >&2; }
for tool in tvc-run tvc-import tvc-opt; do
  [[ -x $build/bin/$tool ]] || { log "missing $build/bin/$tool (build it, or pass --build DIR)"; exit 1; }
done

# 1. The model.
source "$here/gpt2_model.sh"
gpt2_model "$scratch" 12 "$build/bin/tvc-import"

# 2. The variants: name and tvc-prune options.
variants=(dense "2:4" "2:4+head" "2:4-masked" "heads-25%" "channels-25%")
declare -A options=(["2:4"]="pattern=2:4" ["2:4+head"]="pattern=2:4 lm-head"
                    ["2:4-masked"]="pattern=2:4 format=masked"
                    ["heads-25%"]="strategy=heads amount=0.25"
                    ["channels-25%"]="strategy=channels amount=0.25")
declare -A files=([dense]=model.mlir ["2:4"]=pruned-2to4.mlir
                  ["2:4+head"]=pruned-2to4-head.mlir
                  ["2:4-masked"]=pruned-2to4-masked.mlir
                  ["heads-25%"]=pruned-heads-25.mlir
                  ["channels-25%"]=pruned-channels-25.mlir)
for variant in "${variants[@]}"; do
  [[ $variant == dense ]] && continue
  out=$scratch/${files[$variant]}
  weights=$scratch/${files[$variant]%.mlir}.safetensors
  if [[ ! -f $out || $out -ot $scratch/model.mlir || $out -ot $build/bin/tvc-opt ]]; then
    log "pruning: ${options[$variant]}"
    "$build/bin/tvc-opt" "$scratch/model.mlir" \
      "-tvc-prune=${options[$variant]} base-dir=$scratch/hf weights-file=$weights" \
      -o "$out"
  fi
done

# 3. Interleaved rounds.
results=$scratch/prune-results
rm -rf "$results" && mkdir -p "$results"
for round in $(seq 1 "$rounds"); do
  for variant in "${variants[@]}"; do
    log "round $round/$rounds: $variant"
    "$build/bin/tvc-run" "$scratch/${files[$variant]}" --bench --json \
      --threads "$threads" --repeat "$repeat" --prefill-tokens "$prefill" \
      --past "$past" --weights-dir "$scratch/hf" \
      > "$results/$(echo "$variant" | tr ':+' 'tp').$round.json"
  done
done

# 4. The table.
echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$here/prune_report.py" "$results" "${variants[@]}"
