// --input-shape=name=D0xD1... replaces a graph input's declared shape ('?'
// keeps a size dynamic). Naming something that is not a graph input (an
// output, an initializer) is an error that lists every such name, and no
// output is written; a malformed spec is refused before the import.
//
// REQUIRES: onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: tvc-import %S/Inputs/mlp.onnxtext --input-shape=x=2x4 --quiet | FileCheck %s --check-prefix=STATIC
// RUN: tvc-import %S/Inputs/mlp.onnxtext --input-shape=x=?x4 --quiet | FileCheck %s --check-prefix=DYNAMIC
//
// RUN: not tvc-import %S/Inputs/mlp.onnxtext --input-shape=y=2x3 --input-shape=w1=4x8 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NOT-INPUT
// RUN: not test -e %t/out.mlir
// RUN: not test -e %t/out.weights.safetensors
// RUN: not tvc-import %S/Inputs/mlp.onnxtext --input-shape=x=2xz -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not tvc-import %S/Inputs/mlp.onnxtext --input-shape=2x4 -o %t/out.mlir 2>&1 | FileCheck %s --check-prefix=NO-NAME
// RUN: not test -e %t/out.mlir

/// The pinned size reaches ONNX shape inference: every type after it is
/// static too.
// STATIC: func.func @main_graph(%[[X:[^:]*]]: tensor<2x4xf32> {tvc.name = "x"}) -> tensor<2x3xf32>
// STATIC: tvc.linear %[[X]], %{{.*}} bias %{{.*}} : (tensor<2x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
// STATIC: tvc.softmax %{{.*}} : tensor<2x3xf32>

// DYNAMIC: func.func @main_graph(%{{.*}}: tensor<?x4xf32> {tvc.name = "x"}) -> tensor<?x3xf32>

// NOT-INPUT: tvc-import: error: {{.*}}mlp.onnxtext: 2 problem(s) in the model:
// NOT-INPUT-DAG: --input-shape names 'y', which is not a graph input
// NOT-INPUT-DAG: --input-shape names 'w1', which is not a graph input

// MALFORMED: tvc-import: error: --input-shape expects name=D0xD1x... for an ONNX model, got 'x=2xz'
// NO-NAME: tvc-import: error: --input-shape expects name=D0xD1x... for an ONNX model, got '2x4'
