# Sourced by the GPT-2-124M benchmarks (ort_compare.sh, prune_decode.sh):
# gpt2_model SCRATCH LAYERS TVC_IMPORT writes the model with random weights
# into SCRATCH once (make_gpt2_124m.py: hf/ checkpoint, prefill/decode ONNX
# exports; reused while the generator and LAYERS are unchanged) and imports
# the checkpoint into SCRATCH/model.mlir.
gpt2_model() {
  local scratch=$1 layers=$2 tvc_import=$3
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  mkdir -p "$scratch"
  local stamp
  stamp="$(sha256sum "$here/make_gpt2_124m.py" | cut -c1-16) layers=$layers"
  if [[ ! -f $scratch/stamp || $(cat "$scratch/stamp") != "$stamp" ]]; then
    echo "writing the model into $scratch (several minutes)" >&2
    rm -f "$scratch/stamp" "$scratch/model.mlir"
    /usr/bin/python3 "$here/make_gpt2_124m.py" "$scratch" --layers "$layers" \
      2> >(grep -v -e Warning -e warnings.warn >&2)
    echo "$stamp" > "$scratch/stamp"
  fi
  if [[ ! -f $scratch/model.mlir ]]; then
    "$tvc_import" "$scratch/hf" -o "$scratch/model.mlir"
  fi
}
