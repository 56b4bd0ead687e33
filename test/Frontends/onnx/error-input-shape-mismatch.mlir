/// --input-shape may fix a dynamic size, not contradict a declared one or
/// change the rank.
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: not tvc-import %S/Inputs/mlp.onnxtext --input-shape=x=2x16 -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not tvc-import %S/Inputs/mlp.onnxtext --input-shape=x=2x4x1 -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: not test -e %t/out.mlir
// CHECK: --input-shape for 'x' disagrees with its declared shape
