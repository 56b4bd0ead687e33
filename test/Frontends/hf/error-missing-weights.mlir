// A directory with config.json but neither model.safetensors nor
// model.safetensors.index.json is an error; no output file is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t
// RUN: rm %t/model.safetensors
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}model.safetensors{{.*}}
