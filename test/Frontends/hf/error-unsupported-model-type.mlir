// A model_type outside gpt2, llama, mistral, qwen2 (here "bert"), or none at
// all, is refused and no output file is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --set model_type=bert
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --unset model_type
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOTYPE
// RUN: not test -e %t/out.mlir

/// The message names the type and what is supported.
// CHECK: tvc-import: error: {{.*}}config.json: {{.*}}'bert'{{.*}}not supported
// CHECK-SAME: gpt2, llama, mistral, qwen2

// NOTYPE: tvc-import: error: {{.*}}config.json: {{.*}}'model_type'
