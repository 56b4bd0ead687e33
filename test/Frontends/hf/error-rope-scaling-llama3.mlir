// rope_scaling types other than linear and yarn (here Llama 3.1's "llama3")
// are refused instead of being imported as plain RoPE; no output is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t --rope-scaling llama3:8.0
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}config.json: {{.*}}'llama3'{{.*}}not supported
