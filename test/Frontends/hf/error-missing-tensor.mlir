// A tensor the model needs is absent from the checkpoint: the error names
// the key, and nothing is written to the directory.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// LLaMA without layer 1's up_proj.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --drop model.layers.1.mlp.up_proj.weight
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=LLAMA
// RUN: not test -e %t/out.mlir
// RUN: ls %t | FileCheck %s --check-prefix=LS
//
// GPT-2 without its position table.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py gpt2 %t --drop wpe.weight
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=GPT2
// RUN: not test -e %t/out.mlir
//
// Sharded: the index (and every shard) lacks the final norm.
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --shards 2 --drop model.norm.weight
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=SHARDED
// RUN: not test -e %t/out.mlir

// LLAMA: tvc-import: error: {{.*}}'model.layers.1.mlp.up_proj.weight'
// GPT2: tvc-import: error: {{.*}}'wpe.weight'
// SHARDED: tvc-import: error: {{.*}}'model.norm.weight'

/// Only the checkpoint's own files: no output, no temporary left behind.
// LS: {{^}}config.json{{$}}
// LS-NEXT: {{^}}model.safetensors{{$}}
// LS-NOT: {{.}}
