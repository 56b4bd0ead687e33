// An initializer whose bytes disagree with its dims (raw_data of 12 bytes
// for float[4, 2]; a textual initializer with 3 values for float[2]) is
// reported with both sizes, and nothing is written.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: not tvc-import %S/Inputs/bad-raw-size.onnx -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=RAW
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
// RUN: not tvc-import %S/Inputs/several-problems.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=TEXT
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors

// RAW: tvc-import: error: {{.*}}bad-raw-size.onnx: {{[0-9]+}} problem(s) in the model:
// RAW-NEXT: initializer 'w' holds 12 bytes, but its shape of 8 elements needs 32
// TEXT: initializer 'w' holds 12 bytes, but its shape of 2 elements needs 8
