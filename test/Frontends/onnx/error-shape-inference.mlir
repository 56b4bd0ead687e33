// ONNX shape inference errors (a declared output whose rank contradicts the
// inferred one) stop the import with libonnx's message; nothing is written.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: not tvc-import %S/Inputs/shape-mismatch.onnxtext -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir

// CHECK: tvc-import: error: {{.*}}shape-mismatch.onnxtext: ONNX shape inference failed: {{.*}}(op_type:Transpose){{.*}}Inferred shape and existing shape differ in rank: (2) vs (1)
