// -o naming the model itself, however spelled, and --weights naming it, are
// refused and the model is left untouched.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t/sub
// RUN: cp %S/Inputs/tiny.onnx %S/Inputs/mlp.onnxtext %t
// RUN: not tvc-import %t/tiny.onnx -o %t/tiny.onnx 2>&1 | FileCheck %s --check-prefix=OUTPUT
// RUN: cmp %t/tiny.onnx %S/Inputs/tiny.onnx
// RUN: not tvc-import %t/tiny.onnx -o %t/./tiny.onnx 2>&1 | FileCheck %s --check-prefix=OUTPUT
// RUN: not tvc-import %t/tiny.onnx -o %t/sub/../tiny.onnx 2>&1 | FileCheck %s --check-prefix=OUTPUT
// RUN: not tvc-import %t/tiny.onnx --emit-bytecode -o %t/tiny.onnx 2>&1 | FileCheck %s --check-prefix=OUTPUT
// RUN: cmp %t/tiny.onnx %S/Inputs/tiny.onnx
// RUN: not tvc-import %t/mlp.onnxtext -o %t/mlp.onnxtext 2>&1 | FileCheck %s --check-prefix=OUTPUT
// RUN: cmp %t/mlp.onnxtext %S/Inputs/mlp.onnxtext
//
// RUN: not tvc-import %t/tiny.onnx -o %t/out.mlir --weights %t/tiny.onnx 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// RUN: cmp %t/tiny.onnx %S/Inputs/tiny.onnx
// RUN: not test -e %t/out.mlir

// OUTPUT: tvc-import: error: refusing to write the output over an input file: {{.*}}{{(mlp.onnxtext|tiny.onnx)}}
// WEIGHTS: tvc-import: error: refusing to write the weights over an input file: {{.*}}tiny.onnx
