#!/usr/bin/env bash
# What sparse attention costs in accuracy on the bundled trained models, and
# what it saves in time, by tvc-sparsify-attention kind and schedule, in one
# run.
#
#   bench/attention_accuracy.sh [--build DIR] [--scratch DIR]
#
# Imports test/models/bytegpt (byte-level GPT-2, 4 layers, context 256) and
# the task models test/models/tasks/{recall,copy} (2 layers, sequences of
# 11 and 21 tokens), rewrites each with `tvc-opt --tvc-sparsify-attention`
# (every layer, or full attention in layer 0 only: the MASFormer schedule;
# window, window + global tokens, block-local, top-k, block top-k,
# vertical-slash and ALISA kinds) and evaluates it with `tvc-run --eval`: bytegpt's perplexity on
# the held-out text of test/tools/tvc-run/Inputs (windows of 256 every
# 256) and the task models' exact-match accuracy on their test sets; and times bytegpt with
# `tvc-run --bench` (prefill of its whole 256-token context, a decode step
# after 255 cached tokens: tokens/s and the attention kernels' share; "–"
# where the model has no KV-cached entry points).
# The last two rows are the accuracy-driven choice: tvc-sparsify-search per
# model on validation data distinct from the test data (ladders of windows,
# and of windows and top-k), its choices printed on stderr. Prints a
# Markdown table. Takes about 20 minutes on 2 shared cores; needs /usr/bin/python3 with
# numpy (the task sampler).
#
# Defaults: build dir $TVC_BUILD or ./build, scratch
# ${TMPDIR:-/tmp}/tvc-bench-attention-accuracy.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${TVC_BUILD:-$root/build}
scratch=${TMPDIR:-/tmp}/tvc-bench-attention-accuracy

while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
  esac
  [[ $# -ge 2 ]] || { echo "attention_accuracy.sh: $1 needs a value" >&2; exit 2; }
  case $1 in
    --build) build=$2 ;;
    --scratch) scratch=$2 ;;
    *) echo "attention_accuracy.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

ninja -C "$build" tvc-opt tvc-import tvc-run tvc-sparsify-search >&2
mkdir -p "$scratch"
models=$root/test/models
heldout=$root/test/tools/tvc-run/Inputs/bytegpt-heldout.txt
"$build/bin/tvc-import" "$models/bytegpt" -o "$scratch/bytegpt.mlir" 2>/dev/null
for task in recall copy; do
  "$build/bin/tvc-import" "$models/tasks/$task" -o "$scratch/$task.mlir" 2>/dev/null
done

# One JSON figure of `tvc-run --eval --json` on stdin.
field() {
  python3 -c "import json, sys; d = json.load(sys.stdin); print('%.4f' % $1)"
}

variants=("dense|"
  "window 128, all layers|window=128"
  "window 64, all layers|window=64"
  "window 16, all layers|window=16"
  "window 8, all layers|window=8"
  "window 4, all layers|window=4"
  "MASFormer: full layer 0, window 8 elsewhere|full-layers=0 window=8"
  "MASFormer: full layer 0, window 4 elsewhere|full-layers=0 window=4"
  "window 8 + 2 global tokens, all layers|kind=window-global window=8 global=2"
  "window 4 + 2 global tokens, all layers|kind=window-global window=4 global=2"
  "block-local: blocks of 4, own + 1 before, first block|kind=block-local block=4 local=2"
  "block-local: blocks of 8, own + 1 before, first block|kind=block-local block=8 local=2"
  "top-k 16, all layers|kind=top-k k=16"
  "top-k 8, all layers|kind=top-k k=8"
  "top-k 4, all layers|kind=top-k k=4"
  "MASFormer: full layer 0, top-k 4 elsewhere|full-layers=0 kind=top-k k=4"
  "block top-k: blocks of 4, own + 2 by pooled score|kind=block-top-k block=4 k=2"
  "block top-k: blocks of 2, own + 2 by pooled score|kind=block-top-k block=2 k=2"
  "vertical-slash: 8 columns + 8 diagonals from the last 64 queries|kind=vertical-slash vertical=8 slash=8"
  "vertical-slash: 4 columns + 4 diagonals from the last 64 queries|kind=vertical-slash vertical=4 slash=4"
  "ALISA: window 16 + 16 heavy keys, all layers|kind=alisa window=16 k=16"
  "ALISA: window 4 + 4 heavy keys, all layers|kind=alisa window=4 k=4"
  "ALISA: window 2 + 2 heavy keys, all layers|kind=alisa window=2 k=2"
  "MASFormer: full layer 0, ALISA window 2 + 2 elsewhere|full-layers=0 kind=alisa window=2 k=2")
echo "| schedule | bytegpt perplexity | recall accuracy | copy accuracy | bytegpt prefill tok/s | decode tok/s | attention share of decode |"
echo "|---|---:|---:|---:|---:|---:|---:|"
# One table row: $1 the schedule's name, then bytegpt's, recall's and copy's
# model files; their metric on the test data and bytegpt's speed.
row() {
  local name=$1 line model file value
  shift
  line="| $name"
  for model in bytegpt recall copy; do
    file=$1
    shift
    if [[ $model == bytegpt ]]; then
      value=$("$build/bin/tvc-run" "$file" --weights-dir "$models/bytegpt" \
        --eval --eval-tokens "$heldout" --json | field "d['perplexity']['perplexity']")
      # No speed where no KV-cached entry points can be derived.
      if ! speed=$("$build/bin/tvc-run" "$file" --weights-dir "$models/bytegpt" --bench \
        --prefill-tokens 256 --past 255 --repeat 20 --json 2>/dev/null |
        python3 -c "import json, sys
d = json.load(sys.stdin)
p, q = d['prefill'][0], d['decode'][0]
k = q['kernels']
print('%.0f | %.0f | %.0f %%' % (p['tokens_per_s'], q['tokens_per_s'],
                                 100 * k['attention_ms'] / k['mean_ms']))" 2>/dev/null); then
        speed="– | – | –"
      fi
    else
      value=$("$build/bin/tvc-run" "$file" --weights-dir "$models/tasks/$model" \
        --eval --eval-inputs "$models/tasks/$model/inputs.npy" \
        --eval-answers "$models/tasks/$model/answers.npy" --json |
        field "d['accuracy']['exact_match']")
    fi
    line+=" | $value"
  done
  echo "$line | $speed |"
}

for variant in "${variants[@]}"; do
  name=${variant%%|*} options=${variant#*|}
  files=()
  for model in bytegpt recall copy; do
    file=$scratch/$model.mlir
    if [[ -n $options ]]; then
      file=$scratch/$model.sparse.mlir
      "$build/bin/tvc-opt" "$scratch/$model.mlir" \
        "--tvc-sparsify-attention=$options" -o "$file"
    fi
    files+=("$file")
  done
  row "$name" "${files[@]}"
done

# The accuracy-driven choice: tvc-sparsify-search per model on validation
# data distinct from the test data (bytegpt: the 7770 bytes of MPL-2.0
# before its held-out text; the tasks: 256 fresh rows of their sampler),
# within 2 % perplexity / 1 point of exact match; then measured on the test
# data like every other row.
/usr/bin/python3 - "$scratch" "$root" <<'PY'
import os, sys
import numpy as np
scratch, root = sys.argv[1], sys.argv[2]
mpl = open("/usr/share/common-licenses/MPL-2.0", "rb").read()
open(os.path.join(scratch, "bytegpt-valid.txt"), "wb").write(mpl[-11866:-4096])
sys.path.insert(0, os.path.join(root, "test/models/tasks"))
from train_tasks import TASKS
for name, task in TASKS.items():
    x = task.sample(np.random.default_rng(3001), 256)
    answers = np.load(os.path.join(root, "test/models/tasks", name, "answers.npy"))
    np.save(os.path.join(scratch, name + "-valid-x.npy"), x)
    np.save(os.path.join(scratch, name + "-valid-y.npy"), x[:, -answers.shape[1]:])
PY
search() {
  local label=$1
  shift
  "$build/bin/tvc-sparsify-search" "$scratch/bytegpt.mlir" \
    --weights-dir "$models/bytegpt" -o "$scratch/bytegpt.$label.mlir" \
    --max-drop 2% --eval-tokens "$scratch/bytegpt-valid.txt" "$@" >&2 2>/dev/null
  for task in recall copy; do
    "$build/bin/tvc-sparsify-search" "$scratch/$task.mlir" \
      --weights-dir "$models/tasks/$task" -o "$scratch/$task.$label.mlir" \
      --max-drop 0.01 --eval-inputs "$scratch/$task-valid-x.npy" \
      --eval-answers "$scratch/$task-valid-y.npy" "$@" >&2 2>/dev/null
  done
  for model in bytegpt recall copy; do
    echo "$model ($label): $(grep -o 'mask(#tvc[^)]*)' "$scratch/$model.$label.mlir" |
      sed 's/mask(#tvc\.//; s/)$//' | tr '\n' ' ')" >&2
  done
}
search windows
row "accuracy-driven: windows 4, 8, 16, ... (tvc-sparsify-search)" \
  "$scratch/bytegpt.windows.mlir" "$scratch/recall.windows.mlir" \
  "$scratch/copy.windows.mlir"
search mixed --candidate "kind=window window=4" --candidate "kind=top-k k=4" \
  --candidate "kind=window window=8" --candidate "kind=top-k k=8" \
  --candidate "kind=window window=16" --candidate "kind=window window=32" \
  --candidate "kind=window window=64" --candidate "kind=window window=128"
row "accuracy-driven: windows and top-k (tvc-sparsify-search)" \
  "$scratch/bytegpt.mixed.mlir" "$scratch/recall.mixed.mlir" \
  "$scratch/copy.mixed.mlir"
