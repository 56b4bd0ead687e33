// A safetensors file cut short, inside the data, inside the JSON header, or
// inside the 8-byte length, is reported with the file name; no output file
// is written.
//
// `` at the end of a CHECK line marks an error message to keep
// in step with tvc-import; it matches the empty string.
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t
// RUN: head -c 100000 %t/model.safetensors > %t/cut && mv %t/cut %t/model.safetensors
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=DATA
// RUN: not test -e %t/out.mlir
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t
// RUN: head -c 100 %t/model.safetensors > %t/cut && mv %t/cut %t/model.safetensors
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=HEADER
// RUN: not test -e %t/out.mlir
//
// RUN: rm -rf %t && /usr/bin/python3 %S/Inputs/make_hf_checkpoint.py llama %t
// RUN: head -c 5 %t/model.safetensors > %t/cut && mv %t/cut %t/model.safetensors
// RUN: not tvc-import %t -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=LENGTH
// RUN: not test -e %t/out.mlir

// DATA: tvc-import: error: {{.*}}model.safetensors: {{.*}}exceed the data section
// HEADER: tvc-import: error: {{.*}}model.safetensors: header length {{[0-9]+}} exceeds file size 100
// LENGTH: tvc-import: error: {{.*}}model.safetensors: file size 5 {{.*}}8-byte header length
